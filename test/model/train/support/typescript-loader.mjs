// Lets worker threads started from the TypeScript sources (under vitest) load .ts files:
// pass ['--import', <this file's URL>] as the worker's execArgv. Production runs the
// compiled JavaScript in dist/ and needs none of this.
import { register } from 'node:module';

register('./typescript-loader-hooks.mjs', import.meta.url);
