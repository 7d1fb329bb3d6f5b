// The linter's main job here is to keep the pure cores pure (DESIGN.md section 3):
// nothing in src/model (apart from its file-loading shell), src/replication or
// src/p2p/kademlia may touch sockets, the file system, timers, the wall clock or
// Math.random. Randomness and time arrive as injected values.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const impureModules = [
  'node:fs', 'fs', 'node:fs/promises', 'fs/promises',
  'node:net', 'net', 'node:tls', 'tls', 'node:dgram', 'dgram',
  'node:http', 'http', 'node:https', 'https', 'node:http2', 'http2',
  'node:timers', 'timers', 'node:timers/promises', 'timers/promises',
  'node:child_process', 'child_process', 'node:worker_threads', 'worker_threads',
];

const pureRules = {
  'no-restricted-imports': ['error', {
    paths: impureModules.map((name) => ({ name, message: 'Pure cores do no I/O: take the effect as an injected function or move this code into a shell.' })),
    patterns: [{ group: ['**/net/**', '**/net'], message: 'Pure cores must not import the network layer.' }],
  }],
  'no-restricted-globals': ['error',
    { name: 'setTimeout', message: 'Pure cores count time in ticks.' },
    { name: 'setInterval', message: 'Pure cores count time in ticks.' },
    { name: 'setImmediate', message: 'Pure cores count time in ticks.' },
    { name: 'queueMicrotask', message: 'Pure cores are synchronous.' },
    { name: 'Date', message: 'Pure cores take time as an input, never from the clock.' },
    { name: 'performance', message: 'Pure cores take time as an input, never from the clock.' },
    { name: 'fetch', message: 'Pure cores do no I/O.' },
    { name: 'process', message: 'Pure cores do not read the process environment.' },
  ],
  'no-restricted-properties': ['error',
    { object: 'Math', property: 'random', message: 'Use the injected seeded RNG so runs replay exactly.' },
    { object: 'Date', property: 'now', message: 'Pure cores take time as an input.' },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'tmp/**', 'checkpoints/**', 'node_modules/**', 'web/dist/**', 'bench/node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', Buffer: 'readonly', URL: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', performance: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', SharedArrayBuffer: 'readonly', Atomics: 'readonly', WebAssembly: 'readonly', structuredClone: 'readonly', queueMicrotask: 'readonly', fetch: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['src/model/**/*.ts', 'src/replication/**/*.ts', 'src/p2p/kademlia/**/*.ts', 'src/availability/**/*.ts'],
    // Files named *-file.ts or *-shell.ts are the thin I/O shells around a pure core (loading a GGUF, spawning workers): the one allowed exception.
    ignores: ['src/**/*-file.ts', 'src/**/*-shell.ts'],
    rules: pureRules,
  },
);
