/**
 * Just enough of the WebAssembly binary format (core spec 1.0 plus fixed-width SIMD) to
 * write one kernel function by hand: LEB128 numbers, a module of one imported memory
 * and exported functions, and the handful of instructions the kernel uses.
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

export const valueType = { i32: 0x7f, v128: 0x7b } as const;

export interface FunctionDefinition {
  exportName: string;
  parameterCount: number; // all i32
  /** Extra locals after the parameters, as (count, type) runs in index order. */
  locals: Array<[number, number]>;
  body: Bytes;
}

/** A module importing env.memory (shared or not, any size) and exporting the given functions. */
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

export const op = {
  get: (index: number): Bytes => [0x20, ...unsignedLeb(index)],
  set: (index: number): Bytes => [0x21, ...unsignedLeb(index)],
  tee: (index: number): Bytes => [0x22, ...unsignedLeb(index)],
  i32: (value: number): Bytes => [0x41, ...signedLeb(value)],
  i32Add: [0x6a],
  i32Subtract: [0x6b],
  i32RemainderUnsigned: [0x70],
  i32Mul: [0x6c],
  i32And: [0x71],
  i32LessThanUnsigned: [0x49],
  i32GreaterOrEqualUnsigned: [0x4f],
  i32IsZero: [0x45],
  i32Equal: [0x46],
  /** f32.load with a 4-byte alignment hint. */
  f32Load: (offset: number): Bytes => [0x2a, 2, ...unsignedLeb(offset)],
  f32Store: (offset: number): Bytes => [0x38, 2, ...unsignedLeb(offset)],
  /** v128.load and v128.store with a 4-byte alignment hint (rows of odd width are not 16-byte aligned; the hint is only a hint). */
  v128Load: (offset: number): Bytes => [0xfd, 0x00, 2, ...unsignedLeb(offset)],
  v128Store: (offset: number): Bytes => [0xfd, 0x0b, 2, ...unsignedLeb(offset)],
  v128Zero: [0xfd, 0x0c, ...new Array<number>(16).fill(0)],
  f32x4Splat: [0xfd, 0x13],
  f32x4Add: [0xfd, 0xe4, 0x01],
  f32x4Mul: [0xfd, 0xe6, 0x01],
  /** A loop whose body ends by branching back while the condition it leaves on the stack holds. */
  loop: (...body: Code[]): Code => [[0x03, 0x40], body, [0x0b]],
  /** A block that `breakIf(0)` inside it leaves. */
  block: (...body: Code[]): Code => [[0x02, 0x40], body, [0x0b]],
  ifElse: (then: Code[], otherwise: Code[]): Code => [[0x04, 0x40], then, [0x05], otherwise, [0x0b]],
  breakIf: (depth: number): Bytes => [0x0d, ...unsignedLeb(depth)],
};
