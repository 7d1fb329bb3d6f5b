/**
 * The inference kernels' WebAssembly module: for every format of formats.ts, one product function
 * tiled for a single token (matrix-vector: one row at a time, see vectorRowTile) and one tiled for
 * several (matrix-matrix: each decoded weight chunk serves 4 tokens); then the
 * columns kernel of attention's values pass, and the activation quantizers. Assembled from
 * the generators in this folder the first time it is needed, then compiled once per
 * process; worker threads receive the compiled module.
 */
import { assembleModule, code, type FunctionDefinition } from '../../wasm/assembler.js';
import { type WasmInstance, type WasmMemory, type WasmModule, webAssembly } from '../../wasm/api.js';
import { columnsKernel } from './columns-kernel.js';
import { type DotKernel, dotKernel } from './dot-kernel.js';
import { type WasmKernelType, isIntegerFormat, wasmFormats } from './formats.js';
import { integerKernel } from './integer-kernel.js';
import { quantizeKernel } from './quantize-kernel.js';

/**
 * Rows per tile of the matrix-vector kernel. One: tiles
 * of 2 or 4 rows share each x load and run a little faster while the matrix is in cache,
 * but read the weights from memory at a half to a third of the speed (several rows'
 * streams at once defeat the hardware's prefetching, measured on this machine), and a
 * model's matrices come from memory.
 */
export const vectorRowTile = 1;
/** Tokens per tile of the matrix-matrix kernel: each weight chunk is dequantized once for this many tokens. */
export const batchTokenTile = 4;

const kernelTypes = Object.keys(wasmFormats) as WasmKernelType[];

/** The export name of `type`'s kernel for one token (`batch` false) or several. */
export function kernelExportName(type: WasmKernelType, batch: boolean): string {
  return `dot_${type}_${batch ? 'batch' : 'vector'}`;
}

/** A kernel's number in the module (and in the control block's tasks): the order of kernelFunctions. */
export function kernelIndex(type: WasmKernelType, batch: boolean): number {
  return 2 * kernelTypes.indexOf(type) + (batch ? 1 : 0);
}

/** The number of the columns kernel (columns-kernel.ts), after the products. */
export const columnsKernelIndex = 2 * kernelTypes.length;
const columnsExportName = 'columns_F32';

/** The numbers of the activation quantizers (quantize-kernel.ts), after the columns kernel. */
export const quantizeKernelIndex = { Q8_0: columnsKernelIndex + 1, Q8_K: columnsKernelIndex + 2 } as const;
const quantizeKinds = ['Q8_0', 'Q8_K'] as const;
const quantizeExportName = (kind: 'Q8_0' | 'Q8_K'): string => `quantize_${kind}`;

/** The kernel of `type` for one token (`batch` false) or several. */
function productKernel(type: WasmKernelType, batch: boolean): DotKernel {
  const format = wasmFormats[type];
  const [rowTile, tokenTile] = batch ? [1, batchTokenTile] : [vectorRowTile, 1];
  return isIntegerFormat(format) ? integerKernel(format, rowTile, tokenTile) : dotKernel(format, rowTile, tokenTile);
}

let moduleBytes: Uint8Array | undefined;

/** The module's bytes (assembled once per process). */
export function inferenceModuleBytes(): Uint8Array {
  moduleBytes ??= assembleInferenceModule();
  return moduleBytes;
}

function assembleInferenceModule(): Uint8Array {
  const functions: FunctionDefinition[] = [];
  for (const type of kernelTypes) {
    for (const batch of [false, true]) {
      const kernel = productKernel(type, batch);
      functions.push({ exportName: kernelExportName(type, batch), parameterCount: kernel.parameterCount, locals: kernel.locals, body: code(kernel.body) });
    }
  }
  const columns = columnsKernel();
  functions.push({ exportName: columnsExportName, parameterCount: columns.parameterCount, locals: columns.locals, body: code(columns.body) });
  for (const kind of quantizeKinds) {
    const kernel = quantizeKernel(kind);
    functions.push({ exportName: quantizeExportName(kind), parameterCount: kernel.parameterCount, locals: kernel.locals, body: code(kernel.body) });
  }
  return assembleModule(functions, true);
}

/** The product kernels of an instance, indexed by kernelIndex. */
export function kernelFunctions(instance: WasmInstance): Array<(...args: number[]) => void> {
  const functions: Array<(...args: number[]) => void> = [];
  for (const type of kernelTypes) for (const batch of [false, true]) functions.push(instance.exports[kernelExportName(type, batch)] as (...args: number[]) => void);
  functions.push(instance.exports[columnsExportName] as (...args: number[]) => void);
  for (const kind of quantizeKinds) functions.push(instance.exports[quantizeExportName(kind)] as (...args: number[]) => void);
  return functions;
}

/** Instantiates the module over `memory` (on this thread). */
export function instantiateKernels(memory: WasmMemory, module: WasmModule = inferenceModule()): WasmInstance {
  if (webAssembly === undefined) throw new Error('this runtime has no WebAssembly; use the TypeScript kernels');
  return new webAssembly.Instance(module, { env: { memory } });
}

let compiled: WasmModule | undefined;

/** The compiled module (shared memory), made on first use. Throws where WebAssembly is missing; check wasmKernelsAvailable() first. */
export function inferenceModule(): WasmModule {
  if (webAssembly === undefined) throw new Error('this runtime has no WebAssembly; use the TypeScript kernels');
  compiled ??= new webAssembly.Module(inferenceModuleBytes());
  return compiled;
}

let availability: boolean | undefined;

/** False where WebAssembly, its SIMD extension or shared memory is missing; inference then runs on the TypeScript kernels. */
export function wasmKernelsAvailable(): boolean {
  if (availability === undefined) {
    try {
      availability = webAssembly !== undefined && webAssembly.validate(inferenceModuleBytes()) && new webAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer.byteLength > 0;
    } catch {
      availability = false;
    }
  }
  return availability;
}
