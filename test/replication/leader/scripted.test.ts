/**
 * Runs every script in testdata/ and compares each command's output with the expected output
 * stored under it. NINES_UPDATE_GOLDEN=1 rewrites the files with the actual output, to be
 * reviewed as a diff.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatScript, parseScript, ScriptRunner } from './script.js';

const directory = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const update = process.env.NINES_UPDATE_GOLDEN === '1';

describe('scripted Raft interactions (testdata/*.txt)', () => {
  for (const file of readdirSync(directory).filter((name) => name.endsWith('.txt')).sort()) {
    it(file, () => {
      const path = join(directory, file);
      const blocks = parseScript(readFileSync(path, 'utf8'));
      const runner = new ScriptRunner();
      const actual = blocks.map((block) => ({ command: block.command, expected: runner.run(block.command) }));
      if (update) {
        writeFileSync(path, formatScript(actual));
        return;
      }
      for (let index = 0; index < blocks.length; index++) {
        expect(`${blocks[index].command}\n${actual[index].expected}`, `${file}, command ${index + 1}`).toBe(`${blocks[index].command}\n${blocks[index].expected}`);
      }
    });
  }
});
