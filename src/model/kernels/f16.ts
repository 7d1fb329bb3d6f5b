/**
 * IEEE 754 half precision to single precision, by table.
 *
 * F16 weights and the scales of Q8_0 blocks are stored as 16-bit halves. Decoding one
 * takes a dozen operations; looking it up takes one load, and the table covers every
 * possible bit pattern, so it is built once (256 KiB) when this module loads.
 */

/** Decodes the 16 bits of a half (sign, 5-bit exponent, 10-bit mantissa) to its value. */
export function halfBitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

function buildTable(): Float32Array {
  const table = new Float32Array(65536); // (half bit pattern) -> value
  for (let bits = 0; bits < 65536; bits++) table[bits] = halfBitsToNumber(bits);
  return table;
}

/** halfToFloatTable[bits] is the value of the half with those bits. */
export const halfToFloatTable: Float32Array = buildTable();
