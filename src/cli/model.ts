/** `nines model info file.gguf`: what a model file holds, and whether nines can run it (`nines model quantize` is in ./quantize.ts). */
import type { Command } from 'commander';
import { loadModel } from '../model/load-file.js';
import { headDimOf } from '../model/config.js';
import { supportedArchitectures, supportedTensorTypes } from '../model/architecture.js';
import { registerQuantize } from './quantize.js';

export function registerModel(program: Command): void {
  const model = program.command('model').description('inspect and quantize model files');
  model
    .command('info')
    .description('architecture, hyper-parameters, parameter count, tensors and their types')
    .argument('[file]', 'a GGUF model file (default: the built-in model)')
    .action(async (file: string | undefined) => {
      // One thread: describing a model computes nothing.
      const loaded = loadModel(file, { threads: 1 });
      const { config } = loaded;
      let parameters = 0;
      for (const tensor of loaded.tensors) parameters += tensor.dims.reduce((a, b) => a * b, 1);
      const out: string[] = [];
      out.push(`file          ${loaded.path} (${formatBytes(loaded.fileBytes)})`);
      out.push(`name          ${loaded.name}`);
      out.push(`architecture  ${config.architecture} (supported: ${supportedArchitectures.join(', ')})`);
      out.push(`parameters    ${parameters.toLocaleString('en-US')}`);
      out.push(`vocabulary    ${config.vocabSize} tokens (byte-level BPE)`);
      out.push(`context       ${config.contextLength} tokens`);
      out.push(`dimensions    dim ${config.dim}, hidden ${config.hiddenDim}, ${config.layerCount} layers, ${config.headCount} heads of ${headDimOf(config)}, ${config.kvHeadCount} kv heads`);
      out.push(`embeddings    ${config.tiedEmbeddings ? 'tied (the token embedding is also the output projection)' : 'untied'}`);
      out.push(`rope base     ${config.ropeFreqBase}, rms epsilon ${Number(config.normEpsilon.toPrecision(6))}`);
      out.push(`tensor types  supported: ${supportedTensorTypes.join(', ')}`);
      out.push(`chat template ${loaded.chatTemplate.kind === 'gguf' ? "the file's own (tokenizer.chat_template)" : 'none in the file: nines chat uses the plain template'}`);
      out.push('');
      out.push('tensors');
      const nameWidth = Math.max(...loaded.tensors.map((t) => t.name.length));
      for (const tensor of loaded.tensors) {
        out.push(`  ${tensor.name.padEnd(nameWidth)}  ${tensor.type.padEnd(5)} [${tensor.dims.join(', ')}]  ${formatBytes(tensor.byteLength)}`);
      }
      process.stdout.write(out.join('\n') + '\n');
      await loaded.close();
    });
  registerQuantize(model);
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
