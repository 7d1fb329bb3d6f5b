import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ContactInvalidError,
  formatContact,
  NodeIdInvalidError,
  nodeIdFromBytes,
  nodeIdToBytes,
  parseContact,
  parseNodeId,
  parsePeerAddress,
} from '../../../src/p2p/identity/index.js';

const id = '0123456789abcdef0123456789abcdef01234567';

describe('parseContact', () => {
  it('reads host:port#nodeid for host names, IPv4 and bracketed IPv6', () => {
    expect(parseContact(`127.0.0.1:4000#${id}`)).toEqual({ host: '127.0.0.1', port: 4000, nodeId: id });
    expect(parseContact(`Peer-1.Example.org:65535#${id.toUpperCase()}`)).toEqual({ host: 'peer-1.example.org', port: 65535, nodeId: id });
    expect(parseContact(`[::1]:1#${id}`)).toEqual({ host: '::1', port: 1, nodeId: id });
    expect(parseContact(`[0:0:0:0:0:0:0:1]:80#${id}`)).toEqual({ host: '::1', port: 80, nodeId: id });
    expect(parseContact(`[fe80::1:2]:9000#${id}`).host).toBe('fe80::1:2');
  });

  it('refuses bad input with a message that says what is wrong', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /empty/],
      [`127.0.0.1#${id}`, /no port/],
      [`127.0.0.1:4000`, /no node id/],
      [`:4000#${id}`, /no host/],
      [`::1:4000#${id}`, /IPv6 addresses must be written in brackets/],
      [`[::1:4000#${id}`, /no closing "\]"/],
      [`[::1]4000#${id}`, /":port" right after/],
      [`[nothex::1]:4000#${id}`, /not a valid IPv6 address/],
      [`127.0.0.1:0#${id}`, /port must be from 1 to 65535/],
      [`127.0.0.1:65536#${id}`, /port must be from 1 to 65535/],
      [`127.0.0.1:-1#${id}`, /port must be a number/],
      [`127.0.0.1:40a#${id}`, /port must be a number/],
      [`256.0.0.1:4000#${id}`, /not a valid IPv4 address/],
      [`1.2.3:4000#${id}`, /not a valid IPv4 address/],
      [`bad_host:4000#${id}`, /not a valid host name/],
      [`127.0.0.1:4000#${id.slice(2)}`, /40 hexadecimal characters \(160 bits\), got 38/],
      [`127.0.0.1:4000#${id.slice(1)}g`, /only hexadecimal characters/],
      [`127.0.0.1:4000#`, /got 0 characters/],
    ];
    for (const [text, message] of cases) {
      expect(() => parseContact(text), text).toThrow(ContactInvalidError);
      expect(() => parseContact(text), text).toThrow(message);
    }
  });

  it('round-trips through formatContact', () => {
    const host = fc.oneof(
      fc.ipV4(),
      fc.ipV6().map((address) => new URL(`http://[${address}]/`).hostname.slice(1, -1)),
      fc.domain().map((name) => name.toLowerCase()),
    );
    const nodeId = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((bytes) => Buffer.from(bytes).toString('hex'));
    fc.assert(
      fc.property(host, fc.integer({ min: 1, max: 65535 }), nodeId, (h, port, n) => {
        const contact = { host: h, port, nodeId: n };
        expect(parseContact(formatContact(contact))).toEqual(contact);
      }),
      { numRuns: 300 },
    );
  });
});

describe('parsePeerAddress', () => {
  it('makes the node id optional, and pins it when present', () => {
    expect(parsePeerAddress('localhost:4000')).toEqual({ host: 'localhost', port: 4000 });
    expect(parsePeerAddress(`localhost:4000#${id}`)).toEqual({ host: 'localhost', port: 4000, nodeId: id });
    expect(formatContact({ host: '::1', port: 5 })).toBe('[::1]:5');
  });
});

describe('node ids', () => {
  it('convert to and from their 20 bytes', () => {
    expect(nodeIdFromBytes(nodeIdToBytes(id))).toBe(id);
    expect(parseNodeId(` ${id.toUpperCase()} `)).toBe(id);
    expect(() => nodeIdFromBytes(new Uint8Array(19))).toThrow(NodeIdInvalidError);
    expect(() => nodeIdToBytes('xyz')).toThrow(NodeIdInvalidError);
  });
});
