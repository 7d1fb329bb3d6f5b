/**
 * Builds the dashboard (web/index.html and web/src/*.ts) into dist/web/, next to the
 * compiled server, which serves it at `/` (src/api/dashboard.ts). The base is relative so
 * that the files work wherever a peer mounts them, and everything (uPlot included) is
 * bundled: a peer serves the dashboard without any network connection.
 *
 *   npx vite build --config web/vite.config.ts
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const webDirectory = fileURLToPath(new URL('.', import.meta.url));
const outputDirectory = fileURLToPath(new URL('../dist/web', import.meta.url));

export default defineConfig({
  root: webDirectory,
  base: './',
  logLevel: 'warn',
  build: {
    outDir: outputDirectory,
    // The output lies outside web/, so vite needs to be told that emptying it is intended.
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: true,
    // One small bundle: the dashboard is a few hundred lines plus uPlot.
    chunkSizeWarningLimit: 200,
  },
});
