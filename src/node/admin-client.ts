/**
 * Talks to a running node's admin channel from the same machine, with the address and token
 * the node wrote into `<data dir>/node.json`.
 */
import * as http from 'node:http';
import { adminRequestTimeoutMs } from './constants.js';
import { AdminRequestError, NodeNotRunningError } from './errors.js';
import { readNodeFile } from './node-file.js';

export async function adminRequest(dataDir: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const file = readNodeFile(dataDir);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: file.admin.host,
        port: file.admin.port,
        method,
        path,
        timeout: adminRequestTimeoutMs,
        headers: { authorization: `Bearer ${file.admin.token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            return reject(new AdminRequestError(response.statusCode ?? 0, 'ADMIN_ANSWER_INVALID', `the node's admin channel answered ${method} ${path} with something that is not JSON`));
          }
          if (response.statusCode === 200) return resolve(parsed);
          const error = (parsed as { error?: { code?: string; message?: string } }).error;
          reject(new AdminRequestError(response.statusCode ?? 0, error?.code ?? 'ADMIN_UNKNOWN', `the node refused ${method} ${path}: ${error?.message ?? 'no reason given'}`));
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${adminRequestTimeoutMs} ms`)));
    request.on('error', (error: NodeJS.ErrnoException) => {
      reject(
        new NodeNotRunningError(
          `the node recorded in ${dataDir}/node.json (pid ${file.pid}) does not answer on its admin port ${file.admin.port} (${error.message}); ` +
            'it may have stopped without cleaning up: start it again',
        ),
      );
    });
    request.end(payload);
  });
}
