/** `nines tokenize "text"`: shows how text becomes tokens — sub-words, not words. */
import type { Command } from 'commander';
import { loadModel } from '../model/load-file.js';

export function registerTokenize(program: Command): void {
  program
    .command('tokenize')
    .description("show each token's id and text, as the model's tokenizer splits the text")
    .argument('<text>', 'the text to tokenize')
    .option('-m, --model <file.gguf>', 'GGUF file whose tokenizer to use (default: the built-in model)')
    .action((text: string, options: { model?: string }) => {
      const { tokenizer } = loadModel(options.model);
      const ids = tokenizer.encode(text);
      const idWidth = String(tokenizer.vocabSize - 1).length;
      for (const id of ids) {
        process.stdout.write(`${String(id).padStart(idWidth)}  ${JSON.stringify(tokenizer.tokenText(id))}\n`);
      }
      const bytes = Buffer.byteLength(text, 'utf8');
      const ratio = ids.length === 0 ? 0 : bytes / ids.length;
      process.stdout.write(`${ids.length} tokens, ${bytes} bytes (${ratio.toFixed(2)} bytes per token)\n`);
    });
}
