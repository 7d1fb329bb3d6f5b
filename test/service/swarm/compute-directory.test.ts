import { describe, expect, it } from 'vitest';
import { SwarmComputeDirectory } from '../../../src/service/swarm/compute-directory.js';
import { modelProviderKey } from '../../../src/service/compute/compute-role.js';
import type { ChunkRequest, ChunkResponse } from '../../../src/service/compute/protocol.js';
import type { DhtShell } from '../../../src/p2p/dht/index.js';
import type { Logger, Transport } from '../../../src/net/index.js';

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Logger;
const idOf = (letter: string) => letter.repeat(40);

/** A DHT that knows two providers, and a transport where `failing` peers refuse every request. */
function fixture(failing: Set<string>) {
  const calls: string[] = [];
  const dht = {
    findProviders: async (key: string) => {
      if (key !== modelProviderKey('m')) return { providers: [] };
      return { providers: [{ nodeId: idOf('a'), host: '127.0.0.1', port: 1 }, { nodeId: idOf('b'), host: '127.0.0.1', port: 2 }] };
    },
  } as unknown as DhtShell;
  const transport = {
    request: async (to: { nodeId: string }, _method: string, _body: unknown) => {
      calls.push(to.nodeId);
      if (failing.has(to.nodeId)) throw Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
      return { steps: [], load: { liveJobs: to.nodeId === idOf('a') ? 3 : 0, waitingChunks: 0 } } satisfies ChunkResponse;
    },
  } as unknown as Transport;
  const directory = new SwarmComputeDirectory({ selfId: idOf('f'), transport, dht, logger: silent, suspectMs: 0 });
  return { directory, calls };
}

const request = {} as ChunkRequest;

describe('the gateway\'s directory of compute peers', () => {
  it('finds providers in the DHT and prefers the least loaded', async () => {
    const { directory } = fixture(new Set());
    expect(await directory.candidates('m', new Set())).toHaveLength(2);
    for (const peer of [idOf('a'), idOf('b')]) directory.report(peer, { ok: true, load: await directory.call(peer, request, 1000, new AbortController().signal).then((response) => response.load) });
    expect((await directory.candidates('m', new Set()))[0]).toBe(idOf('b'));
    expect(await directory.candidates('m', new Set([idOf('b')]))).toEqual([idOf('a')]);
  });

  it('opens a failing peer\'s breaker: its calls fail fast without reaching it, and it is skipped while another is healthy', async () => {
    const { directory, calls } = fixture(new Set([idOf('a')]));
    await directory.candidates('m', new Set());
    for (let attempt = 0; attempt < 10; attempt++) {
      await directory.call(idOf('a'), request, 1000, new AbortController().signal).catch(() => undefined);
    }
    const reached = calls.filter((peer) => peer === idOf('a')).length;
    expect(reached).toBeLessThan(10);
    expect(directory.view().find((peer) => peer.id === idOf('a'))?.breaker).toBe('open');
    // The healthy peer first; the open one last, tried only when nothing else is left.
    expect(await directory.candidates('m', new Set())).toEqual([idOf('b'), idOf('a')]);
    directory.close();
  });
});
