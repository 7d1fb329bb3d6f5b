// Lets Node run the TypeScript sources directly: the benchmarks (`npm run bench:model`)
// and the worker threads that tests start from the sources pass `--import <this file>`.
// Production runs the compiled JavaScript in dist/ and needs none of this.
import { register } from 'node:module';

register('./typescript-loader-hooks.mjs', import.meta.url);
