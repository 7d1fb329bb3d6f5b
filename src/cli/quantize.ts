/**
 * `nines model quantize in.gguf out.gguf --type q4_k_m`: re-encodes a model's weights in a
 * smaller type, by llama.cpp's rules (src/model/quantize.ts), so that llama.cpp and nines
 * both run the result. Prints one line per tensor and the sizes before and after.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { parseQuantizeMix, quantizeMixes, quantizeMixNames, type QuantizeMix } from '../model/quantize.js';
import { quantizeModelFile, type QuantizedTensorReport } from '../model/quantize-file.js';

function mixOption(value: string): QuantizeMix {
  try {
    return parseQuantizeMix(value);
  } catch {
    throw new InvalidArgumentError(`--type must be one of ${quantizeMixNames.join(', ')}, got '${value}'.`);
  }
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

function tensorLine(tensor: QuantizedTensorReport, index: number, count: number): string {
  const position = `[${String(index + 1).padStart(String(count).length)}/${count}]`;
  const types = tensor.from === tensor.to ? `${tensor.from.padEnd(4)} (kept)    ` : `${tensor.from.padEnd(4)} -> ${tensor.to.padEnd(4)}`;
  const note = tensor.note === undefined ? '' : `  (${tensor.note})`;
  return `${position} ${tensor.name.padEnd(28)} [${tensor.dims.join(', ')}]`.padEnd(56) + `  ${types}  ${formatBytes(tensor.bytesBefore).padStart(10)} -> ${formatBytes(tensor.bytesAfter).padStart(10)}${note}\n`;
}

export function registerQuantize(modelCommand: Command): void {
  const types = quantizeMixNames.map((name) => `${name}: ${quantizeMixes[name].summary}`).join('; ');
  modelCommand
    .command('quantize')
    .description('write a copy of a GGUF model with its weights in a smaller type (llama.cpp can run the result)')
    .argument('<in.gguf>', 'the model to read')
    .argument('<out.gguf>', 'where to write the quantized model (a new path)')
    .requiredOption('--type <type>', `the tensor types to write (${types})`, mixOption)
    .action((input: string, output: string, options: { type: QuantizeMix }) => {
      const report = quantizeModelFile(input, output, options.type, (tensor, index, count) => process.stdout.write(tensorLine(tensor, index, count)));
      const ratio = report.bytesAfter > 0 ? report.bytesBefore / report.bytesAfter : 1;
      const bitsPerWeight = report.elementCount > 0 ? (8 * report.bytesAfter) / report.elementCount : 0;
      process.stdout.write(
        `total: tensors ${formatBytes(report.bytesBefore)} -> ${formatBytes(report.bytesAfter)} (${ratio.toFixed(2)}x smaller, ${bitsPerWeight.toFixed(2)} bits per weight); ` +
          `wrote ${output} (${formatBytes(report.outputFileBytes)}, general.file_type ${quantizeMixes[options.type].fileType})\n`,
      );
    });
}
