/**
 * Re-encoding a model's weights, as llama.cpp's llama-quantize does: which type each
 * tensor gets under a named mix (the plan), the conversion of one tensor, and the metadata
 * of the result. Pure; the file shell is ./quantize-file.ts.
 *
 * The plan follows llama_tensor_get_type in llama.cpp's src/llama-quant.cpp for the mixes
 * nines writes:
 *   - Only 2-D (or larger) tensors whose names end in "weight" and are not norms are
 *     re-encoded; everything else (norms, biases) is copied byte for byte, in its own type.
 *   - output.weight, and token_embd.weight when the embeddings are tied (no output.weight),
 *     take Q6_K in every quantized mix except q8_0, or Q8_0 when their rows are not whole
 *     super-blocks of 256.
 *   - q4_k_m: Q4_K by default; attn_v and ffn_down take Q6_K in the layers use_more_bits
 *     picks (the first and last eighth of the layers, and every third one in between).
 *     An untied token_embd stays in the default type, as in llama.cpp.
 *   - A row length the chosen type's blocks do not divide falls back as llama.cpp's
 *     tensor_type_fallback does: Q4_K to Q5_0, Q6_K to Q8_0, and to F16 when even 32 does
 *     not divide it. (For a Q8_0 target llama.cpp gives up; nines takes F16 there too.)
 * A tensor already in its target type is copied unchanged, never re-quantized.
 */
import { ggmlBlockLayout, type GgmlType, type GgufValue } from './gguf/types.js';
import { tensorElementCount } from './gguf/tensor-layout.js';
import {
  dequantizeTensor,
  isBlockTensorType,
  isSupportedTensorType,
  quantizeTensor,
  QuantizeRequestError,
  supportedTensorTypes,
  UnsupportedTensorTypeError,
} from './quant/index.js';

/** The mixes `nines model quantize --type` writes, and llama.cpp's file-type code for each (enum llama_ftype). */
export const quantizeMixes = {
  q4_k_m: { fileType: 15, defaultType: 'Q4_K', summary: "llama.cpp's Q4_K_M: Q4_K, with Q6_K for the output and for attn_v and ffn_down in some layers" },
  q6_k: { fileType: 18, defaultType: 'Q6_K', summary: 'Q6_K for every weight matrix' },
  q8_0: { fileType: 7, defaultType: 'Q8_0', summary: 'Q8_0 for every weight matrix' },
  f16: { fileType: 1, defaultType: 'F16', summary: 'F16 for every weight matrix' },
  f32: { fileType: 0, defaultType: 'F32', summary: 'F32 for every weight matrix' },
} as const satisfies Record<string, { fileType: number; defaultType: GgmlType; summary: string }>;

export type QuantizeMix = keyof typeof quantizeMixes;
export const quantizeMixNames = Object.keys(quantizeMixes) as QuantizeMix[];

/** The version of the quantized formats (ggml's GGML_QNT_VERSION), which llama.cpp records in every file it quantizes. */
export const quantizationVersion = 2;

/** The mix of this name (case-insensitive), or a QuantizeRequestError listing the valid ones. */
export function parseQuantizeMix(name: string): QuantizeMix {
  const lowered = name.trim().toLowerCase();
  if (!(quantizeMixNames as string[]).includes(lowered)) {
    throw new QuantizeRequestError(`unknown quantization type '${name}'; the types are ${quantizeMixNames.join(', ')}`);
  }
  return lowered as QuantizeMix;
}

/** What the plan needs to know of a tensor. */
export interface TensorToPlan {
  name: string;
  /** Innermost first, as GGUF stores them: dims[0] is the row length. */
  dims: readonly number[];
  type: GgmlType;
}

export interface PlannedTensor {
  name: string;
  dims: number[];
  from: GgmlType;
  to: GgmlType;
  /** Why the type differs from the mix's usual choice (a fallback), for the report. */
  note?: string;
}

/** llama.cpp's use_more_bits: the first and last eighth of the layers, and every third layer in between. */
export function useMoreBits(layer: number, layerCount: number): boolean {
  const eighth = Math.floor(layerCount / 8);
  return layer < eighth || layer >= Math.floor((7 * layerCount) / 8) || (layer - eighth) % 3 === 2;
}

/** ggml_n_dims: the number of dims up to the last one above 1. */
function dimensionCount(dims: readonly number[]): number {
  let count = dims.length;
  while (count > 1 && dims[count - 1] === 1) count--;
  return count;
}

/** tensor_allows_quantization, for the tensors of the architectures nines runs. */
function allowsQuantization(tensor: TensorToPlan): boolean {
  return dimensionCount(tensor.dims) >= 2 && tensor.name.endsWith('weight') && !tensor.name.includes('_norm.weight');
}

const layerPattern = /^blk\.(\d+)\./;

/** The layer of a tensor named blk.N.*, or -1. */
function layerOf(name: string): number {
  const match = layerPattern.exec(name);
  return match === null ? -1 : Number(match[1]);
}

function isAttentionValue(name: string): boolean {
  return name.includes('attn_v.weight') || name.includes('attn_qkv.weight') || name.includes('attn_kv_b.weight');
}

/**
 * The type of every tensor under `mix`, in the tensors' order. The per-layer counters of
 * attn_v and ffn_down count in llama.cpp's order (by layer, then by name), so a file whose
 * tensors are stored in another order gets the same types. (llama.cpp measures ffn_down's
 * position against the layer count; for the dense models nines runs, that is the number
 * of ffn_down tensors, which is what is counted here.)
 */
export function planQuantization(tensors: readonly TensorToPlan[], mix: QuantizeMix): PlannedTensor[] {
  const { defaultType } = quantizeMixes[mix];
  const tied = !tensors.some((tensor) => tensor.name === 'output.weight');
  const ordered = [...tensors].sort((a, b) => layerOf(a.name) - layerOf(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const attentionValueCount = tensors.filter((tensor) => isAttentionValue(tensor.name)).length;
  const feedForwardDownCount = tensors.filter((tensor) => tensor.name.includes('ffn_down')).length;
  const counters = { attentionValue: 0, feedForwardDown: 0 };
  const chosen = new Map<string, { to: GgmlType; note?: string }>();
  for (const tensor of ordered) {
    if (!allowsQuantization(tensor)) {
      chosen.set(tensor.name, { to: tensor.type });
      continue;
    }
    if (!isBlockTensorType(defaultType)) {
      chosen.set(tensor.name, { to: defaultType });
      continue;
    }
    const rowLength = tensor.dims[0];
    let to: GgmlType = defaultType;
    if (tensor.name === 'output.weight' || (tied && tensor.name === 'token_embd.weight')) {
      if (rowLength % ggmlBlockLayout[defaultType].blockSize !== 0) to = 'Q8_0';
      else if (defaultType !== 'Q8_0') to = 'Q6_K';
    } else if (isAttentionValue(tensor.name)) {
      if (mix === 'q4_k_m' && useMoreBits(counters.attentionValue, attentionValueCount)) to = 'Q6_K';
      counters.attentionValue++;
    } else if (tensor.name.includes('ffn_down')) {
      if (mix === 'q4_k_m' && useMoreBits(counters.feedForwardDown, feedForwardDownCount)) to = 'Q6_K';
      counters.feedForwardDown++;
    }
    chosen.set(tensor.name, fallback(to, rowLength));
  }
  return tensors.map((tensor) => {
    const { to, note } = chosen.get(tensor.name)!;
    // llama.cpp refuses this without --allow-requantize; nines does it, and says what it costs.
    const requantized = isBlockTensorType(tensor.type) && to !== tensor.type ? `re-quantized from ${tensor.type}: its error stays and the new one adds to it` : undefined;
    const notes = [note, requantized].filter((text) => text !== undefined);
    return { name: tensor.name, dims: [...tensor.dims], from: tensor.type, to, ...(notes.length > 0 ? { note: notes.join('; ') } : {}) };
  });
}

/** tensor_type_fallback: a type whose blocks divide the row length, and why it is not `to`. */
function fallback(to: GgmlType, rowLength: number): { to: GgmlType; note?: string } {
  const fits = (type: GgmlType) => rowLength % ggmlBlockLayout[type].blockSize === 0;
  if (fits(to)) return { to };
  const next: GgmlType = to === 'Q4_K' ? 'Q5_0' : to === 'Q6_K' ? 'Q8_0' : 'F16';
  const chosen = fits(next) ? next : 'F16';
  return { to: chosen, note: `rows of ${rowLength} are not whole ${to} blocks of ${ggmlBlockLayout[to].blockSize}, so ${chosen} (llama.cpp's fallback)` };
}

/** The tensor's bytes in its planned type: the same bytes when the type does not change, else dequantized to float32 and quantized again. */
export function convertTensor(planned: PlannedTensor, data: Uint8Array): Uint8Array {
  if (planned.from === planned.to) return data;
  if (!isSupportedTensorType(planned.from)) throw new UnsupportedTensorTypeError(planned.from, `converting tensor '${planned.name}' to ${planned.to}`, supportedTensorTypes);
  const values = dequantizeTensor(planned.from, data, tensorElementCount(planned.dims));
  return quantizeTensor(planned.to, values);
}

/** The input's metadata, in its order, with general.file_type and general.quantization_version set as llama.cpp sets them. */
export function quantizedMetadata(metadata: ReadonlyMap<string, GgufValue>, mix: QuantizeMix): Array<[string, GgufValue]> {
  const replacements = new Map<string, GgufValue>([
    ['general.quantization_version', { type: 'uint32', value: quantizationVersion }],
    ['general.file_type', { type: 'uint32', value: quantizeMixes[mix].fileType }],
  ]);
  const pairs: Array<[string, GgufValue]> = [...metadata].map(([key, value]) => [key, replacements.get(key) ?? value]);
  for (const [key, value] of replacements) if (!metadata.has(key)) pairs.push([key, value]);
  return pairs;
}
