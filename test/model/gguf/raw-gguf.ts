/**
 * A byte-level GGUF builder for tests: it writes exactly what it is told, valid or not, so
 * tests can make every kind of malformed file the reader must refuse.
 */
export class RawGguf {
  private parts: number[] = [];

  get length(): number {
    return this.parts.length;
  }
  u8(value: number): this {
    this.parts.push(value & 0xff);
    return this;
  }
  u32(value: number): this {
    for (let shift = 0; shift < 32; shift += 8) this.parts.push((value >>> shift) & 0xff);
    return this;
  }
  u64(value: number | bigint): this {
    let big = BigInt.asUintN(64, BigInt(value));
    for (let index = 0; index < 8; index++) {
      this.parts.push(Number(big & 0xffn));
      big >>= 8n;
    }
    return this;
  }
  bytes(bytes: ArrayLike<number>): this {
    for (let index = 0; index < bytes.length; index++) this.parts.push(bytes[index]);
    return this;
  }
  /** A GGUF string: uint64 length then the bytes (a string is UTF-8 encoded; raw bytes are written as given). */
  string(value: string | number[]): this {
    const bytes = typeof value === 'string' ? Array.from(new TextEncoder().encode(value)) : value;
    return this.u64(bytes.length).bytes(bytes);
  }
  /** 'GGUF', a version, and the two counts. */
  preamble(tensorCount: number | bigint, metadataCount: number | bigint, version = 3): this {
    return this.bytes([0x47, 0x47, 0x55, 0x46]).u32(version).u64(tensorCount).u64(metadataCount);
  }
  /** A tensor description. */
  tensor(name: string, dims: (number | bigint)[], typeCode: number, offset: number | bigint): this {
    this.string(name).u32(dims.length);
    for (const dim of dims) this.u64(dim);
    return this.u32(typeCode).u64(offset);
  }
  padTo(alignment: number): this {
    while (this.parts.length % alignment !== 0) this.parts.push(0);
    return this;
  }
  zeros(count: number): this {
    for (let index = 0; index < count; index++) this.parts.push(0);
    return this;
  }
  build(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}
