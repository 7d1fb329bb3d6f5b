import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GeneratedText, stopStringsProblem } from '../../src/model/generated-text.js';

const bytes = (...values: number[]) => new Uint8Array(values);
const utf8 = (text: string) => new TextEncoder().encode(text);

describe('GeneratedText', () => {
  it('waits for the token that completes a character', () => {
    const text = new GeneratedText([]);
    expect(text.push(bytes(0xe2))).toEqual({ text: '', stopped: false });
    expect(text.push(bytes(0x82))).toEqual({ text: '', stopped: false });
    expect(text.push(bytes(0xac, 0x41))).toEqual({ text: '€A', stopped: false });
  });

  it('turns bytes that can never form a character into U+FFFD, at the latest when finishing', () => {
    const text = new GeneratedText([]);
    expect(text.push(bytes(0xff, 0x41)).text).toBe('\uFFFDA');
    expect(text.push(bytes(0xc3)).text).toBe('');
    expect(text.finish()).toEqual({ text: '\uFFFD', stopped: false });
  });

  it('holds back a possible stop string and releases it once it cannot be one', () => {
    const text = new GeneratedText(['abc']);
    expect(text.push(utf8('xa')).text).toBe('x');
    expect(text.push(utf8('b')).text).toBe('');
    expect(text.push(utf8('x')).text).toBe('abx');
    expect(text.push(utf8('ab')).text).toBe('');
    expect(text.finish()).toEqual({ text: 'ab', stopped: false });
  });

  it('stops at a stop string split across tokens and drops it and what follows', () => {
    const text = new GeneratedText(['\n\n', 'END']);
    expect(text.push(utf8('one\n'))).toEqual({ text: 'one', stopped: false });
    expect(text.push(utf8('\ntwo'))).toEqual({ text: '', stopped: true });
    expect(text.finish()).toEqual({ text: '', stopped: true });
    expect(() => text.push(utf8('x'))).toThrow(/already ended/);
  });

  it('stops at the earliest of several stop strings', () => {
    const text = new GeneratedText(['cd', 'bcde']);
    expect(text.push(utf8('abcdef'))).toEqual({ text: 'a', stopped: true }); // bcde starts before cd
  });

  it('releases, over any split into tokens, exactly the text before the first stop string', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'b', 'é', '€', '\n') }), fc.array(fc.string({ unit: fc.constantFrom('a', 'b', '\n'), minLength: 1, maxLength: 3 }), { maxLength: 3 }), fc.array(fc.nat()), (whole, stops, cuts) => {
        const encoded = utf8(whole);
        const points = [...new Set(cuts.map((cut) => cut % (encoded.length + 1)))].sort((a, b) => a - b);
        const text = new GeneratedText(stops);
        let released = '';
        let stopped = false;
        let start = 0;
        for (const end of [...points, encoded.length]) {
          const result = text.push(encoded.subarray(start, end));
          released += result.text;
          start = end;
          if (result.stopped) {
            stopped = true;
            break;
          }
        }
        if (!stopped) released += text.finish().text;
        // The oracle: generation ends at the first token after which some stop string has appeared, and the
        // text is cut at the earliest-starting stop string seen by then (a longer one that would start earlier
        // but complete later never gets the chance: generation has stopped).
        const decoder = new TextDecoder();
        let seen = '';
        let expected: string | undefined;
        let from = 0;
        for (const end of [...points, encoded.length]) {
          seen += decoder.decode(encoded.subarray(from, end), { stream: true });
          from = end;
          const firstStop = Math.min(...stops.map((stop) => seen.indexOf(stop)).filter((index) => index >= 0));
          if (Number.isFinite(firstStop)) {
            expected = seen.slice(0, firstStop);
            break;
          }
        }
        expect(released).toBe(expected ?? whole);
        expect(stopped).toBe(expected !== undefined);
      }),
    );
  });
});

describe('stopStringsProblem', () => {
  it('refuses empty, overlong, too many and malformed stop strings', () => {
    expect(stopStringsProblem(['ok'])).toBeUndefined();
    expect(stopStringsProblem([''])).toMatch(/non-empty/);
    expect(stopStringsProblem(['x'.repeat(257)])).toMatch(/at most 256 characters/);
    expect(stopStringsProblem(Array.from({ length: 17 }, () => 'x'))).toMatch(/at most 16 stop strings/);
    expect(stopStringsProblem(['\uD800x'])).toMatch(/lone surrogate/);
    expect(stopStringsProblem(['😀'])).toBeUndefined();
  });
});
