/**
 * The file shell of quantization: reads a GGUF model, re-encodes its tensors by the plan
 * of ./quantize.ts and writes the result (atomically, through writeGgufFile), reporting
 * each tensor as it goes. Every tensor read is validated first, so a malformed input is
 * refused with the tensor and block named rather than quantized into garbage.
 */
import fs from 'node:fs';
import path from 'node:path';
import { openGguf, writeGgufFile, type GgufTensorToWrite } from './gguf/gguf-file.js';
import { isSupportedTensorType, QuantizeRequestError, validateTensorData } from './quant/index.js';
import { convertTensor, planQuantization, quantizedMetadata, type PlannedTensor, type QuantizeMix } from './quantize.js';

export interface QuantizedTensorReport extends PlannedTensor {
  bytesBefore: number;
  bytesAfter: number;
}

export interface QuantizeFileReport {
  tensors: QuantizedTensorReport[];
  bytesBefore: number;
  bytesAfter: number;
  /** Elements over all tensors, for bits per weight. */
  elementCount: number;
  /** Size of the written file, header included. */
  outputFileBytes: number;
}

/** The same file, whether named by two spellings of one path or by a link. */
function sameFile(first: string, second: string): boolean {
  if (path.resolve(first) === path.resolve(second)) return true;
  if (!fs.existsSync(second)) return false;
  const a = fs.statSync(first);
  const b = fs.statSync(second);
  return a.dev === b.dev && a.ino === b.ino;
}

function checkPaths(inputPath: string, outputPath: string): void {
  if (!fs.existsSync(inputPath)) throw new QuantizeRequestError(`input file ${inputPath} does not exist`);
  if (!fs.statSync(inputPath).isFile()) throw new QuantizeRequestError(`input ${inputPath} is not a file`);
  if (sameFile(inputPath, outputPath)) {
    throw new QuantizeRequestError(`the output ${outputPath} is the input file; write the quantized model to a new path (the input stays as it is)`);
  }
  const directory = path.dirname(path.resolve(outputPath));
  if (!fs.existsSync(directory)) throw new QuantizeRequestError(`the output's directory ${directory} does not exist; create it first`);
}

/**
 * Quantizes the model at `inputPath` to `outputPath` with `mix`. `onTensor` hears of each
 * tensor once it is converted, in the file's order.
 */
export function quantizeModelFile(inputPath: string, outputPath: string, mix: QuantizeMix, onTensor: (tensor: QuantizedTensorReport, index: number, count: number) => void = () => {}): QuantizeFileReport {
  checkPaths(inputPath, outputPath);
  const file = openGguf(inputPath);
  const reports: QuantizedTensorReport[] = [];
  const written: GgufTensorToWrite[] = [];
  let elementCount = 0;
  try {
    const plan = planQuantization(file.tensors, mix);
    plan.forEach((planned, index) => {
      const data = file.readTensor(planned.name);
      if (isSupportedTensorType(planned.from)) validateTensorData(planned.from, data, inputPath, planned.name);
      const converted = convertTensor(planned, data);
      written.push({ name: planned.name, dims: planned.dims, type: planned.to, data: converted });
      const report = { ...planned, bytesBefore: data.length, bytesAfter: converted.length };
      reports.push(report);
      elementCount += planned.dims.reduce((product, dim) => product * dim, 1);
      onTensor(report, index, plan.length);
    });
    const metadata = quantizedMetadata(file.metadata, mix);
    // The alignment travels in the metadata (general.alignment) when the input set one; otherwise both use the default.
    writeGgufFile(outputPath, { metadata, tensors: written });
  } finally {
    file.close();
  }
  const sum = (pick: (report: QuantizedTensorReport) => number) => reports.reduce((total, report) => total + pick(report), 0);
  return { tensors: reports, bytesBefore: sum((report) => report.bytesBefore), bytesAfter: sum((report) => report.bytesAfter), elementCount, outputFileBytes: fs.statSync(outputPath).size };
}
