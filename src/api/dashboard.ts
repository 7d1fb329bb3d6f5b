/**
 * Serves the dashboard that `vite build --config web/vite.config.ts` writes to dist/web:
 * `/` is its index.html and `/assets/<file>` its scripts, styles and source maps. Every
 * peer serves it, so a user may open any peer's address in a browser.
 *
 * The files are read from disk on each request (they are few and small, and a rebuild is
 * then seen without restarting the peer). Only plain file names under assets/ are served:
 * a path with a `..`, a backslash, a NUL or a hidden file is refused before it reaches the
 * file system, so no request can read outside the dashboard's directory.
 */
import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** A dashboard file larger than this is not ours: the whole bundle with uPlot is under 100 KiB, its source map under 1 MiB. */
export const dashboardFileBytesMax = 8 * 1024 * 1024;
/** A path under /assets/ longer than this is refused unread. */
export const dashboardPathCharactersMax = 256;

export const dashboardContentTypes: Readonly<Record<string, string>> = Object.freeze({
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
});

/** index.html names its assets by content hash, so it must be asked for again each time; the hashed assets never change. */
const indexCacheControl = 'no-cache';
const assetCacheControl = 'public, max-age=31536000, immutable';
const notBuiltMessage = 'the dashboard is not built: run npm run build';

/**
 * The page may load only its own scripts, styles and data. Inline style attributes are
 * allowed because the plots and the probability bars size themselves with them; inline
 * scripts are not.
 */
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** A request path the dashboard refuses to look up; the message says what a valid one is. */
export class DashboardPathError extends Error {
  override name = 'DashboardPathError';
  readonly code = 'DASHBOARD_PATH_INVALID';
}

/**
 * dist/web next to the compiled server (dist/api/dashboard.js -> dist/web). Run from the
 * sources (src/api/dashboard.ts, as tests do), it is the build's dist/web all the same.
 */
export function defaultDashboardDirectory(moduleUrl: string = import.meta.url): string {
  const parent = dirname(dirname(fileURLToPath(moduleUrl)));
  return basename(parent) === 'src' ? join(dirname(parent), 'dist', 'web') : join(parent, 'web');
}

export function mountDashboard(app: FastifyInstance, directory: string = defaultDashboardDirectory()): void {
  const root = resolve(directory);
  const assets = join(root, 'assets');
  const index = async (_request: FastifyRequest, reply: FastifyReply) => {
    if (!existsSync(join(root, 'index.html'))) return plain(reply, 503, notBuiltMessage);
    return sendFile(reply, join(root, 'index.html'), indexCacheControl);
  };
  app.get('/', index);
  app.get('/index.html', index);
  app.get('/assets/*', async (request, reply) => {
    if (!existsSync(root)) return plain(reply, 503, notBuiltMessage);
    let name: string;
    try {
      name = assetNameOf(request.url);
    } catch (error) {
      if (error instanceof DashboardPathError) return plain(reply, 400, error.message);
      throw error;
    }
    const file = resolve(assets, name);
    // assetNameOf already refuses every way out of the directory; this check holds even if it were wrong.
    if (!file.startsWith(assets + sep)) return plain(reply, 400, 'that path leaves the dashboard\'s assets directory');
    return sendFile(reply, file, assetCacheControl);
  });
}

/**
 * The file name an /assets/ URL asks for, decoded and checked: one or more path segments
 * of letters, digits, '.', '_' and '-', none of them '.', '..' or hidden.
 */
export function assetNameOf(url: string): string {
  const path = url.split(/[?#]/, 1)[0];
  const prefix = '/assets/';
  if (!path.startsWith(prefix)) throw new DashboardPathError(`${path.slice(0, 64)} is not under /assets/`);
  let name: string;
  try {
    name = decodeURIComponent(path.slice(prefix.length));
  } catch {
    throw new DashboardPathError('the asset path is not valid percent-encoding');
  }
  if (name.length === 0 || name.length > dashboardPathCharactersMax) throw new DashboardPathError(`an asset path must be 1 to ${dashboardPathCharactersMax} characters`);
  for (const segment of name.split('/')) {
    if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(segment)) {
      throw new DashboardPathError(`${JSON.stringify(segment.slice(0, 64))} is not an asset name: use the names the dashboard's index.html links to (letters, digits, '.', '_', '-'; no '..')`);
    }
  }
  return name;
}

async function sendFile(reply: FastifyReply, file: string, cacheControl: string): Promise<FastifyReply> {
  const type = dashboardContentTypes[extname(file).toLowerCase()];
  if (type === undefined) return plain(reply, 404, 'no such dashboard file');
  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) return plain(reply, 404, 'no such dashboard file');
    size = info.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return plain(reply, 404, 'no such dashboard file');
    throw error;
  }
  if (size > dashboardFileBytesMax) return plain(reply, 500, `the dashboard file ${basename(file)} is ${size} bytes, over the ${dashboardFileBytesMax}-byte limit: rebuild the dashboard with npm run build`);
  const body = await readFile(file);
  return reply
    .status(200)
    .headers({ 'content-type': type, 'cache-control': cacheControl, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'content-security-policy': contentSecurityPolicy })
    .send(body);
}

function plain(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.status(status).headers({ 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }).send(`${message}\n`);
}
