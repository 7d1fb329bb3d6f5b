/**
 * Just enough of the WebAssembly binary format (core spec 1.0 plus fixed-width SIMD) to
 * write kernel functions by hand in TypeScript: LEB128 numbers, a module of one imported
 * memory and exported functions, and the instructions the kernels use. The training
 * kernel (../train/simd-kernel.ts) and the inference kernels (../kernels/wasm/) are both
 * assembled with it when first needed, so the WebAssembly nines runs is built from the
 * sources in this repository and needs no toolchain.
 * Reference: WebAssembly Core Specification, chapter 5 (binary format), and the SIMD
 * proposal's opcode table (prefix 0xfd).
 */

export type Bytes = number[];

export function unsignedLeb(value: number): Bytes {
  const out: Bytes = [];
  let rest = value >>> 0;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    out.push(byte);
  } while (rest !== 0);
  return out;
}

export function signedLeb(value: number): Bytes {
  const out: Bytes = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    const done = (rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function name(text: string): Bytes {
  const bytes = [...new TextEncoder().encode(text)];
  return [...unsignedLeb(bytes.length), ...bytes];
}

function section(id: number, body: Bytes): Bytes {
  return [id, ...unsignedLeb(body.length), ...body];
}

function vector(items: Bytes[]): Bytes {
  return [...unsignedLeb(items.length), ...items.flat()];
}

export const valueType = { i32: 0x7f, f32: 0x7d, v128: 0x7b } as const;

export interface FunctionDefinition {
  exportName: string;
  parameterCount: number; // all i32
  /** Extra locals after the parameters, as (count, type) runs in index order. */
  locals: Array<[number, number]>;
  body: Bytes;
}

/** A module importing env.memory (shared or not, any size) and exporting the given functions, none of which returns a value. */
export function assembleModule(functions: FunctionDefinition[], sharedMemory: boolean): Uint8Array {
  const types = functions.map((f) => [0x60, ...vector(Array.from({ length: f.parameterCount }, () => [valueType.i32])), 0]);
  const pagesMax = 65536;
  const memoryLimits = sharedMemory ? [0x03, ...unsignedLeb(1), ...unsignedLeb(pagesMax)] : [0x00, ...unsignedLeb(1)];
  const bodies = functions.map((f) => {
    const code = [...vector(f.locals.map(([count, type]) => [...unsignedLeb(count), type])), ...f.body, 0x0b];
    return [...unsignedLeb(code.length), ...code];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector(types)),
    ...section(2, vector([[...name('env'), ...name('memory'), 0x02, ...memoryLimits]])),
    ...section(3, vector(functions.map((_, index) => unsignedLeb(index)))),
    ...section(7, vector(functions.map((f, index) => [...name(f.exportName), 0x00, ...unsignedLeb(index)]))),
    ...section(10, vector(bodies)),
  ]);
}

/** Instructions, each returning its bytes; nested arrays are flattened by `code`. */
export type Code = Bytes | Code[];

export function code(...parts: Code[]): Bytes {
  return (parts as unknown[]).flat(Infinity) as Bytes;
}

/** A SIMD instruction: the 0xfd prefix, then its opcode as an unsigned LEB128 number. */
function simd(opcode: number): Bytes {
  return [0xfd, ...unsignedLeb(opcode)];
}

/** A memory instruction: opcode, log2 of the alignment hint, then the constant byte offset. */
function memory(opcode: Bytes, alignmentLog2: number, offset: number): Bytes {
  return [...opcode, alignmentLog2, ...unsignedLeb(offset)];
}

function float32Bytes(value: number): Bytes {
  return [...new Uint8Array(new Float32Array([value]).buffer)];
}

export const op = {
  get: (index: number): Bytes => [0x20, ...unsignedLeb(index)],
  set: (index: number): Bytes => [0x21, ...unsignedLeb(index)],
  tee: (index: number): Bytes => [0x22, ...unsignedLeb(index)],
  i32: (value: number): Bytes => [0x41, ...signedLeb(value)],
  f32: (value: number): Bytes => [0x43, ...float32Bytes(value)],
  i32Add: [0x6a],
  i32Subtract: [0x6b],
  i32RemainderUnsigned: [0x70],
  i32Mul: [0x6c],
  i32And: [0x71],
  i32Or: [0x72],
  i32ShiftLeft: [0x74],
  i32ShiftRightUnsigned: [0x76],
  i32LessThanUnsigned: [0x49],
  i32LessOrEqualUnsigned: [0x4d],
  i32GreaterOrEqualUnsigned: [0x4f],
  i32IsZero: [0x45],
  i32Equal: [0x46],
  f32Add: [0x92],
  f32Subtract: [0x93],
  f32Mul: [0x94],
  f32ConvertI32Signed: [0xb2],
  i32Load: (offset: number): Bytes => memory([0x28], 2, offset),
  i32Load8Unsigned: (offset: number): Bytes => memory([0x2d], 0, offset),
  i32Load8Signed: (offset: number): Bytes => memory([0x2c], 0, offset),
  /** i32.load16_u with a 1-byte alignment hint: block scales sit at any even or odd offset. */
  i32Load16Unsigned: (offset: number): Bytes => memory([0x2f], 0, offset),
  /** f32.load with a 4-byte alignment hint. */
  f32Load: (offset: number): Bytes => [0x2a, 2, ...unsignedLeb(offset)],
  f32Store: (offset: number): Bytes => [0x38, 2, ...unsignedLeb(offset)],
  /** v128.load and v128.store with a 4-byte alignment hint (rows of odd width are not 16-byte aligned; the hint is only a hint). */
  v128Load: (offset: number): Bytes => [0xfd, 0x00, 2, ...unsignedLeb(offset)],
  v128Store: (offset: number): Bytes => [0xfd, 0x0b, 2, ...unsignedLeb(offset)],
  /** v128.load64_zero: 8 bytes into the low half, zeros above. */
  v128Load64Zero: (offset: number): Bytes => memory(simd(0x5d), 0, offset),
  /** v128.load32_splat: a 4-byte value into every lane. */
  v128Load32Splat: (offset: number): Bytes => memory(simd(0x09), 0, offset),
  v128Zero: [0xfd, 0x0c, ...new Array<number>(16).fill(0)],
  /** v128.const from 16 bytes. */
  v128Const: (bytes: readonly number[]): Bytes => [...simd(0x0c), ...bytes],
  /** v128.const of four i32 lanes. */
  i32x4Const: (lanes: readonly number[]): Bytes => [...simd(0x0c), ...new Uint8Array(Int32Array.from(lanes).buffer)],
  /** i8x16.swizzle: lane i takes byte indices[i] of the first operand, or 0 when that index is 16 or more. */
  i8x16Swizzle: simd(0x0e),
  f32x4Splat: [0xfd, 0x13],
  i32x4Splat: simd(0x11),
  f32x4ExtractLane: (lane: number): Bytes => [...simd(0x1f), lane],
  v128And: simd(0x4e),
  v128Or: simd(0x50),
  i8x16Splat: simd(0x0f),
  i8x16Equal: simd(0x23),
  i8x16ShiftLeft: simd(0x6b),
  i8x16ShiftRightUnsigned: simd(0x6d),
  i8x16Subtract: simd(0x71),
  /** v128.const of sixteen equal bytes. */
  i8x16Repeat: (byte: number): Bytes => [...simd(0x0c), ...new Array<number>(16).fill(byte & 0xff)],
  i16x8ShiftLeft: simd(0x8b),
  i16x8ShiftRightUnsigned: simd(0x8d),
  i16x8ExtendLowI8x16Signed: simd(0x87),
  i16x8ExtendHighI8x16Signed: simd(0x88),
  i32x4ExtendLowI16x8Signed: simd(0xa7),
  i32x4ExtendHighI16x8Signed: simd(0xa8),
  i32x4ShiftLeft: simd(0xab),
  i32x4ShiftRightUnsigned: simd(0xad),
  i32x4Add: simd(0xae),
  f32x4ConvertI32x4Signed: simd(0xfa),
  f32x4Add: [0xfd, 0xe4, 0x01],
  f32x4Subtract: simd(0xe5),
  f32x4Mul: [0xfd, 0xe6, 0x01],
  /** A loop whose body ends by branching back while the condition it leaves on the stack holds. */
  loop: (...body: Code[]): Code => [[0x03, 0x40], body, [0x0b]],
  /** A block that `breakIf(0)` inside it leaves. */
  block: (...body: Code[]): Code => [[0x02, 0x40], body, [0x0b]],
  ifElse: (then: Code[], otherwise: Code[]): Code => [[0x04, 0x40], then, [0x05], otherwise, [0x0b]],
  ifThen: (...then: Code[]): Code => [[0x04, 0x40], then, [0x0b]],
  breakIf: (depth: number): Bytes => [0x0d, ...unsignedLeb(depth)],
  branch: (depth: number): Bytes => [0x0c, ...unsignedLeb(depth)],
  /** while (condition) body: the condition is checked before every pass. */
  whileLoop: (condition: Code, ...body: Code[]): Code => [[0x02, 0x40, 0x03, 0x40], condition, [0x45, 0x0d, 1], body, [0x0c, 0, 0x0b, 0x0b]],
};

/**
 * Hands out local indices after a function's parameters, one type at a time, and lists
 * their declarations in index order as the binary format wants them.
 */
export class LocalAllocator {
  private readonly types: number[] = [];
  private readonly constants = new Map<string, number>();
  private readonly constantCode: Code[] = [];

  constructor(private readonly parameterCount: number) {}

  /**
   * A v128 local that holds `bytes` from the start of the function (see
   * constantInitializers). V8 builds a v128.const anew at every use, from immediates, a
   * few instructions each; a local set once is a register, or at worst one load.
   */
  constant(bytes: readonly number[]): number {
    const key = bytes.join(',');
    let index = this.constants.get(key);
    if (index === undefined) {
      index = this.v128();
      this.constants.set(key, index);
      this.constantCode.push([op.v128Const(bytes), op.set(index)]);
    }
    return index;
  }

  /** The code that sets every constant local; it must run before any use. */
  constantInitializers(): Code {
    return this.constantCode;
  }

  allocate(type: number): number {
    this.types.push(type);
    return this.parameterCount + this.types.length - 1;
  }

  i32(): number {
    return this.allocate(valueType.i32);
  }

  f32(): number {
    return this.allocate(valueType.f32);
  }

  v128(): number {
    return this.allocate(valueType.v128);
  }

  /** (count, type) runs in index order. */
  declarations(): Array<[number, number]> {
    const runs: Array<[number, number]> = [];
    for (const type of this.types) {
      const last = runs[runs.length - 1];
      if (last !== undefined && last[1] === type) last[0]++;
      else runs.push([1, type]);
    }
    return runs;
  }
}
