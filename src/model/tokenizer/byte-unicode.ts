/**
 * GPT-2's byte-to-unicode map (bytes_to_unicode in OpenAI's encoder.py).
 *
 * Byte-level BPE works on bytes, but vocabulary files store tokens as text. GPT-2 gives
 * every byte a printable character: the 188 bytes that are already printable Latin-1
 * ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves, and the other 68 (controls, space,
 * soft hyphen and so on) are moved, in byte order, to U+0100 and up. That is why a space
 * shows up as 'Ġ' (U+0120) and a newline as 'Ċ' (U+010A) in vocab.json and in GGUF files.
 */

function buildByteToCharacter(): string[] {
  const printable: number[] = [];
  for (let byte = 0x21; byte <= 0x7e; byte++) printable.push(byte);
  for (let byte = 0xa1; byte <= 0xac; byte++) printable.push(byte);
  for (let byte = 0xae; byte <= 0xff; byte++) printable.push(byte);
  const isPrintable = new Set(printable);
  const characters: string[] = new Array<string>(256);
  let moved = 0;
  for (let byte = 0; byte < 256; byte++) {
    if (isPrintable.has(byte)) {
      characters[byte] = String.fromCharCode(byte);
    } else {
      characters[byte] = String.fromCharCode(256 + moved);
      moved++;
    }
  }
  return characters;
}

/** byteToCharacter[b] is the one-character string that stands for byte b. */
export const byteToCharacter: readonly string[] = buildByteToCharacter();

/** The inverse map, from a character's code unit to its byte; -1 for characters that stand for no byte. */
const characterToByte: Int16Array = (() => {
  const table = new Int16Array(512).fill(-1);
  for (let byte = 0; byte < 256; byte++) table[byteToCharacter[byte].charCodeAt(0)] = byte;
  return table;
})();

/** The byte-to-unicode form of some bytes (what vocab.json and GGUF store for a normal token). */
export function bytesToTokenString(bytes: Uint8Array): string {
  let text = '';
  for (let index = 0; index < bytes.length; index++) text += byteToCharacter[bytes[index]];
  return text;
}

/** The bytes a byte-to-unicode string stands for, or undefined if it holds a character outside the alphabet. */
export function tokenStringToBytes(text: string): Uint8Array | undefined {
  const bytes = new Uint8Array(text.length);
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    const byte = code < 512 ? characterToByte[code] : -1;
    if (byte < 0) return undefined;
    bytes[index] = byte;
  }
  return bytes;
}
