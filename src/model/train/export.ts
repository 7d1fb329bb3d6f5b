/**
 * The trained weights as GGUF tensors: every tensor of expectedShapes, with its dims in
 * GGUF's innermost-first order ((rows, cols) becomes [cols, rows]; a vector is [cols]),
 * in F32 or, to halve the file, F16.
 */
import type { GgmlType } from '../gguf/types.js';
import { quantizeTensor } from '../quant/index.js';
import type { ModelLayout } from './parameters.js';

export type ExportType = 'F32' | 'F16';

export interface ExportedTensor {
  name: string;
  dims: number[];
  type: GgmlType;
  data: Uint8Array;
}

export function exportTensors(layout: ModelLayout, parameters: Float32Array, type: ExportType): ExportedTensor[] {
  return layout.tensors.map((tensor) => {
    const values = Float32Array.from(parameters.subarray(tensor.offset, tensor.offset + tensor.size));
    return {
      name: tensor.name,
      dims: tensor.rows === 1 ? [tensor.cols] : [tensor.cols, tensor.rows],
      // Norm weights stay F32 in F16 files too, as llama.cpp's converter keeps 1-D tensors: they are tiny and sensitive.
      type: tensor.rows === 1 ? 'F32' : type,
      data: quantizeTensor(tensor.rows === 1 ? 'F32' : type, values),
    };
  });
}

/** Bytes the exported tensors will take (without the header). */
export function exportedBytes(layout: ModelLayout, type: ExportType): number {
  return layout.tensors.reduce((total, tensor) => total + tensor.size * (tensor.rows === 1 || type === 'F32' ? 4 : 2), 0);
}
