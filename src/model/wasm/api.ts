/**
 * The slice of the WebAssembly JavaScript API the inference kernels use. The project
 * compiles against lib ES2023 without the DOM, whose types are where WebAssembly is
 * declared, so it is described here and taken from globalThis.
 */

export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  /** Adds `pages` pages of 64 KiB; returns the old size in pages. Views of a shared memory stay valid. */
  grow(pages: number): number;
}

export type WasmModule = object;

export interface WasmInstance {
  exports: Record<string, unknown>;
}

export interface WebAssemblyApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: { env: { memory: WasmMemory } }) => WasmInstance;
  validate(bytes: Uint8Array): boolean;
}

/** The runtime's WebAssembly, or undefined where there is none. */
export const webAssembly = (globalThis as unknown as { WebAssembly?: WebAssemblyApi }).WebAssembly;

/** Bytes in one page of WebAssembly memory. */
export const wasmPageBytes = 65536;
/** A 32-bit WebAssembly memory holds at most 65536 pages of 64 KiB: 4 GiB. */
export const wasmPagesMax = 65536;
