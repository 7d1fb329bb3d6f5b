/**
 * The matrix product as a WebAssembly SIMD kernel, assembled here from its instructions.
 *
 * Why: the same product in TypeScript runs at about 3 GFLOP/s on our machines (a 2-vCPU
 * AMD EPYC VM); this kernel, four float32 lanes at a time with a register-blocked inner
 * loop, at 35 to 40. Training time is mostly matrix products, so this decides how big a
 * model nines can train in its half-hour budget. (Tiles of 3, 5 and 6 rows measured
 * slower: 6 spills registers.)
 *
 * The kernel computes c (rows, cols) = [c +] a (rows, inner) · b (inner, cols) for cols a
 * multiple of 8 (the caller does the rest in TypeScript). For each strip of 8 columns it
 * first copies b's strip into a contiguous panel (inner x 8), then for each 4 rows keeps
 * the 4 x 8 block of c in eight 4-lane registers while it walks k: per k, two panel loads
 * and four broadcasts of a feed 32 multiply-adds. IEEE float32 throughout, no fused
 * multiply-add, so the results are the same on every machine and every run.
 *
 * All buffers live in one WebAssembly.Memory; with shared memory, worker threads
 * instantiate the same kernel over the same memory and read the same parameters.
 */
import { assert } from '../../core/assert.js';
import { TrainingConfigError } from './errors.js';
import { multiplyPlain, type MatrixMultiplier, type MatrixOperand } from './multiply.js';
import { assembleModule, code, op, valueType, type Code } from '../wasm/assembler.js';

/**
 * The slice of the WebAssembly JavaScript API this file uses. The project compiles
 * against lib ES2023 without the DOM, whose types are where WebAssembly is declared,
 * so it is described here and taken from globalThis.
 */
export interface KernelMemory {
  readonly buffer: ArrayBufferLike;
}
interface WebAssemblyApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => KernelMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: { env: { memory: KernelMemory } }) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}
const webAssembly = (globalThis as unknown as { WebAssembly?: WebAssemblyApi }).WebAssembly;

/** Columns per panel strip: two 4-lane registers. */
export const kernelStripColumns = 8;
/** Rows of c per register tile: 2 x tileRows accumulators, two panel vectors and a broadcast must fit x86-64's sixteen vector registers. */
export const kernelTileRows = 4;
const pageBytes = 65536;
/** A 32-bit WebAssembly memory holds at most 65536 pages of 64 KiB: 4 GiB. */
const kernelMemoryPagesMax = 65536;
/** Every allocation starts on a 16-byte boundary (4 floats). */
const allocationAlignmentFloats = 4;

// Parameters of matmul (all i32; addresses and strides in bytes).
const [C, A, B, ROWS, COLS, INNER, A_ROW, A_INNER, B_INNER, B_COL, LDC, ACCUMULATE, PANEL] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
const parameterCount = 13;
// i32 locals, then A_ROW times 2 .. tileRows - 1.
const [COL0, ROW0, K, SRC, DST, PA, PB, CO, ROWS_TILED] = [13, 14, 15, 16, 17, 18, 19, 20, 21];
const A_ROW_MULTIPLES = 22;

/** Local indices of the kernel for a tile of `tileRows` rows: i32 locals first, then the v128 ones. */
function kernelLocals(tileRows: number) {
  const i32Count = A_ROW_MULTIPLES - parameterCount + Math.max(0, tileRows - 2);
  const firstVector = parameterCount + i32Count;
  // Accumulators: row r, half j at accumulator + 2r + j; then the two panel vectors and the broadcast.
  return { i32Count, v128Count: 2 * tileRows + 3, accumulator: firstVector, panel0: firstVector + 2 * tileRows, panel1: firstVector + 2 * tileRows + 1, broadcast: firstVector + 2 * tileRows + 2 };
}
type KernelLocals = ReturnType<typeof kernelLocals>;

/** The byte offset of row `row` from a base: 0, A_ROW, or a precomputed multiple. */
function aRowOffset(row: number): Code {
  return row === 1 ? [op.get(A_ROW)] : [op.get(A_ROW_MULTIPLES + row - 2)];
}

/** The address of row `row` of the c block at CO. */
function cRow(row: number): Code {
  return row === 0 ? [op.get(CO)] : [op.get(CO), op.get(LDC), op.i32(row), op.i32Mul, op.i32Add];
}

/** acc[row] = accumulate ? c's row : 0, for `rowCount` rows starting at CO. */
function loadAccumulators(rowCount: number, locals: KernelLocals): Code {
  const load: Code[] = [];
  const zero: Code[] = [];
  for (let row = 0; row < rowCount; row++) {
    for (let half = 0; half < 2; half++) {
      load.push([cRow(row), op.v128Load(16 * half), op.set(locals.accumulator + 2 * row + half)]);
      zero.push([op.v128Zero, op.set(locals.accumulator + 2 * row + half)]);
    }
  }
  return [op.get(ACCUMULATE), op.ifElse(load, zero)];
}

function storeAccumulators(rowCount: number, locals: KernelLocals): Code {
  const stores: Code[] = [];
  for (let row = 0; row < rowCount; row++) {
    for (let half = 0; half < 2; half++) stores.push([cRow(row), op.get(locals.accumulator + 2 * row + half), op.v128Store(16 * half)]);
  }
  return stores;
}

/** The k loop for `rowCount` rows: acc[row] += broadcast(a[row][k]) * panel[k]. */
function innerLoop(rowCount: number, locals: KernelLocals): Code {
  const updates: Code[] = [];
  for (let row = 0; row < rowCount; row++) {
    updates.push([op.get(PA), row === 0 ? [] : [aRowOffset(row), op.i32Add], op.f32Load(0), op.f32x4Splat, op.set(locals.broadcast)]);
    for (let half = 0; half < 2; half++) {
      const accumulator = locals.accumulator + 2 * row + half;
      updates.push([op.get(accumulator), op.get(locals.broadcast), op.get(half === 0 ? locals.panel0 : locals.panel1), op.f32x4Mul, op.f32x4Add, op.set(accumulator)]);
    }
  }
  return [
    [op.get(A), op.get(ROW0), op.get(A_ROW), op.i32Mul, op.i32Add, op.set(PA)],
    [op.get(PANEL), op.set(PB), op.i32(0), op.set(K)],
    op.loop(
      [op.get(PB), op.v128Load(0), op.set(locals.panel0), op.get(PB), op.v128Load(16), op.set(locals.panel1)],
      updates,
      [op.get(PA), op.get(A_INNER), op.i32Add, op.set(PA), op.get(PB), op.i32(32), op.i32Add, op.set(PB)],
      [op.get(K), op.i32(1), op.i32Add, op.tee(K), op.get(INNER), op.i32LessThanUnsigned, op.breakIf(0)],
    ),
  ];
}

/** co = c + row0 * ldc + col0 * 4 */
const rowPointer: Code = [op.get(C), op.get(ROW0), op.get(LDC), op.i32Mul, op.i32Add, op.get(COL0), op.i32(4), op.i32Mul, op.i32Add, op.set(CO)];

/**
 * Copies the strip b[0..inner)[col0..col0+8) into the panel, 8 contiguous floats per k:
 * two vector copies when b's columns are adjacent, else (b is a transposed view) eight
 * scalar copies, which read eight rows of the stored matrix in order.
 */
function packPanel(): Code {
  const advance = [op.get(SRC), op.get(B_INNER), op.i32Add, op.set(SRC), op.get(DST), op.i32(32), op.i32Add, op.set(DST)];
  const next = [op.get(K), op.i32(1), op.i32Add, op.tee(K), op.get(INNER), op.i32LessThanUnsigned, op.breakIf(0)];
  const gather: Code[] = [];
  for (let column = 0; column < kernelStripColumns; column++) {
    gather.push([op.get(DST), op.get(SRC), op.get(B_COL), op.i32(column), op.i32Mul, op.i32Add, op.f32Load(0), op.f32Store(4 * column)]);
  }
  return [
    [op.get(B), op.get(COL0), op.get(B_COL), op.i32Mul, op.i32Add, op.set(SRC), op.get(PANEL), op.set(DST), op.i32(0), op.set(K)],
    [op.get(B_COL), op.i32(4), op.i32Equal],
    op.ifElse(
      [op.loop([op.get(DST), op.get(SRC), op.v128Load(0), op.v128Store(0), op.get(DST), op.get(SRC), op.v128Load(16), op.v128Store(16)], advance, next)],
      [op.loop(gather, advance, next)],
    ),
  ];
}

function matmulBody(tileRows: number, locals: KernelLocals): Code {
  const tiledRows = op.block(
    [op.get(ROWS_TILED), op.i32IsZero, op.breakIf(0)],
    op.loop(
      rowPointer,
      loadAccumulators(tileRows, locals),
      innerLoop(tileRows, locals),
      storeAccumulators(tileRows, locals),
      [op.get(ROW0), op.i32(tileRows), op.i32Add, op.tee(ROW0), op.get(ROWS_TILED), op.i32LessThanUnsigned, op.breakIf(0)],
    ),
  );
  const remainingRows = op.block(
    [op.get(ROW0), op.get(ROWS), op.i32GreaterOrEqualUnsigned, op.breakIf(0)],
    op.loop(rowPointer, loadAccumulators(1, locals), innerLoop(1, locals), storeAccumulators(1, locals), [op.get(ROW0), op.i32(1), op.i32Add, op.tee(ROW0), op.get(ROWS), op.i32LessThanUnsigned, op.breakIf(0)]),
  );
  const multiples: Code[] = [];
  for (let row = 2; row < tileRows; row++) multiples.push([op.get(A_ROW), op.i32(row), op.i32Mul, op.set(A_ROW_MULTIPLES + row - 2)]);
  return [
    [op.get(ROWS), op.get(ROWS), op.i32(tileRows), op.i32RemainderUnsigned, op.i32Subtract, op.set(ROWS_TILED)],
    multiples,
    [op.i32(0), op.set(COL0)],
    op.loop(packPanel(), [op.i32(0), op.set(ROW0)], tiledRows, remainingRows, [op.get(COL0), op.i32(kernelStripColumns), op.i32Add, op.tee(COL0), op.get(COLS), op.i32LessThanUnsigned, op.breakIf(0)]),
  ];
}

/** The kernel's module bytes, for shared or unshared memory. */
export function kernelModuleBytes(sharedMemory: boolean, tileRows = kernelTileRows): Uint8Array {
  const locals = kernelLocals(tileRows);
  return assembleModule([{ exportName: 'matmul', parameterCount, locals: [[locals.i32Count, valueType.i32], [locals.v128Count, valueType.v128]], body: code(matmulBody(tileRows, locals)) }], sharedMemory);
}

let simdSupport: boolean | undefined;

/** False where WebAssembly, its SIMD extension or shared memory is missing; training then runs on the TypeScript product. */
export function simdAvailable(): boolean {
  if (simdSupport === undefined) {
    try {
      simdSupport = webAssembly !== undefined && webAssembly.validate(kernelModuleBytes(true)) && new webAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer.byteLength > 0;
    } catch {
      simdSupport = false;
    }
  }
  return simdSupport;
}

/** Creates the memory the kernel and all training buffers live in: shared, so that worker threads can use it too. */
export function createKernelMemory(floatCount: number): KernelMemory {
  assert(webAssembly !== undefined, 'createKernelMemory needs WebAssembly; check simdAvailable() first');
  const pages = Math.max(1, Math.ceil((floatCount * 4) / pageBytes));
  if (pages > kernelMemoryPagesMax) {
    throw new TrainingConfigError(
      `training this model at this batch size needs ${((floatCount * 4) / 2 ** 30).toFixed(1)} GiB of working memory, more than the ${kernelMemoryPagesMax / 16384} GiB a WebAssembly memory can hold; use a smaller --batch or --context, or fewer threads`,
    );
  }
  return new webAssembly.Memory({ initial: pages, maximum: pages, shared: true });
}

/** Floats an allocation of `count` takes in an arena, alignment included. */
export function alignedFloatCount(count: number): number {
  return Math.ceil(count / allocationAlignmentFloats) * allocationAlignmentFloats;
}

/** Hands out 16-byte aligned Float32Array views of a region of kernel memory, never the same bytes twice. */
export class Float32Arena {
  private next: number;

  /** The region is [startFloat, endFloat) of the memory, counted in floats. */
  constructor(
    readonly buffer: ArrayBufferLike,
    startFloat: number,
    readonly endFloat: number,
  ) {
    assert(startFloat % allocationAlignmentFloats === 0 && endFloat * 4 <= buffer.byteLength, 'arena region must be aligned and inside the memory');
    this.next = startFloat;
  }

  allocate(count: number): Float32Array {
    assert(this.next + alignedFloatCount(count) <= this.endFloat, `the arena is out of room for ${count} floats`);
    const view = new Float32Array(this.buffer, this.next * 4, count);
    this.next += alignedFloatCount(count);
    return view;
  }
}

/**
 * The kernel bound to one thread's instance; products of arrays outside the kernel's
 * memory, and the columns beyond the last whole strip of 8, go to the TypeScript product.
 */
export class SimdMultiplier implements MatrixMultiplier {
  private readonly matmul: (...args: number[]) => void;
  private readonly buffer: ArrayBufferLike;
  private readonly panel: Float32Array;

  /** @param innerMax the largest `inner` this multiplier will see (sizes its panel) */
  constructor(memory: KernelMemory, arena: Float32Arena, innerMax: number, tileRows = kernelTileRows) {
    assert(webAssembly !== undefined, 'SimdMultiplier needs WebAssembly; check simdAvailable() first');
    const instance = new webAssembly.Instance(new webAssembly.Module(kernelModuleBytes(true, tileRows)), { env: { memory } });
    this.matmul = instance.exports.matmul as (...args: number[]) => void;
    this.buffer = arena.buffer;
    this.panel = arena.allocate(innerMax * kernelStripColumns);
  }

  multiply(c: MatrixOperand, a: MatrixOperand, b: MatrixOperand, rows: number, cols: number, inner: number, accumulate: boolean): void {
    assert(c.colStride === 1, 'the product is written to contiguous rows');
    const inKernelMemory = c.array.buffer === this.buffer && a.array.buffer === this.buffer && b.array.buffer === this.buffer;
    const colsInStrips = inKernelMemory && inner > 0 ? cols - (cols % kernelStripColumns) : 0;
    if (colsInStrips > 0 && rows > 0) {
      assert(inner * kernelStripColumns <= this.panel.length, `inner ${inner} exceeds the kernel panel`);
      const address = (x: MatrixOperand): number => x.array.byteOffset + x.offset * 4;
      this.matmul(address(c), address(a), address(b), rows, colsInStrips, inner, a.rowStride * 4, a.colStride * 4, b.rowStride * 4, b.colStride * 4, c.rowStride * 4, accumulate ? 1 : 0, this.panel.byteOffset);
    }
    if (colsInStrips < cols) {
      const rest = (x: MatrixOperand): MatrixOperand => ({ ...x, offset: x.offset + colsInStrips * x.colStride });
      multiplyPlain(rest(c), a, rest(b), rows, cols - colsInStrips, inner, accumulate);
    }
  }
}
