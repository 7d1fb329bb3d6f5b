import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { keyBytesMax, valueBytesMax } from '../../../src/replication/leader/index.js';
import { MultiLeaderNode, MultiLeaderSettingsError, MultiLeaderStateError, type KeyState, type MultiLeaderReply } from '../../../src/replication/multi-leader/index.js';
import { registerView, type RegisterState } from '../../../src/replication/versions/index.js';
import { Cluster } from './harness.js';

const peers = ['a', 'b', 'c'];

function okReply(reply: MultiLeaderReply): Extract<MultiLeaderReply, { ok: true }> {
  if (!reply.ok) throw new Error(`refused: ${reply.code} ${reply.message}`);
  return reply;
}

function register(state: KeyState | undefined): RegisterState {
  if (state?.kind !== 'register') throw new Error(`not a register: ${JSON.stringify(state)}`);
  return state.state;
}

describe('MultiLeaderNode writes and replication', () => {
  it('acknowledges a put only in a Ready, with the session token of what that Ready persists', () => {
    const node = new MultiLeaderNode({ id: 'a', peers, rng: new Rng(1) });
    node.write({ kind: 'put', requestId: 'r1', key: 'k', value: 'v1' }, 5);
    expect(node.appliedVector()).toEqual({});
    const ready = node.ready();
    expect(ready.logToAppend).toHaveLength(1);
    expect(ready.logToAppend[0]).toMatchObject({ origin: 'a', seq: 1, key: 'k' });
    expect(ready.keysToPersist.map((item) => item.key)).toEqual(['k']);
    expect(ready.applied).toEqual({ a: 1 });
    expect(ready.replies).toEqual([{ requestId: 'r1', ok: true, state: register(ready.keysToPersist[0].state), applied: { a: 1 } }]);
    expect(node.hasReady()).toBe(false);
    // Reads show only what is durable: nothing a crash could still take back.
    expect(node.read('k')).toBeUndefined();
    node.advance();
    expect(node.appliedVector()).toEqual({ a: 1 });
    expect(node.read('k')).toEqual(ready.keysToPersist[0].state);
  });

  it('ships each change to every peer and converges', () => {
    const cluster = new Cluster(peers);
    okReply(cluster.write('a', { kind: 'put', requestId: 'r1', key: 'k', value: 'one' }));
    okReply(cluster.write('b', { kind: 'append', requestId: 'r2', key: 'chat', value: 'hello' }));
    cluster.settle(3);
    for (const id of peers) {
      expect(registerView(register(cluster.node(id).read('k'))).values).toEqual(['one']);
      expect(cluster.node(id).appliedVector()).toEqual({ a: 1, b: 1 });
    }
    expect(cluster.keysOf('b', ['k', 'chat'])).toBe(cluster.keysOf('a', ['k', 'chat']));
    expect(cluster.keysOf('c', ['k', 'chat'])).toBe(cluster.keysOf('a', ['k', 'chat']));
  });

  it('keeps concurrent puts as siblings everywhere, and a put with the merged context resolves them', () => {
    const cluster = new Cluster(peers);
    okReply(cluster.write('a', { kind: 'put', requestId: 'r1', key: 'k', value: 'from a' }));
    okReply(cluster.write('b', { kind: 'put', requestId: 'r2', key: 'k', value: 'from b' }));
    cluster.settle(3);
    for (const id of peers) expect(registerView(register(cluster.node(id).read('k'))).values.sort()).toEqual(['from a', 'from b']);
    const context = registerView(register(cluster.node('c').read('k'))).context;
    okReply(cluster.write('c', { kind: 'put', requestId: 'r3', key: 'k', value: 'resolved', context }));
    cluster.settle(3);
    for (const id of peers) expect(registerView(register(cluster.node(id).read('k'))).values).toEqual(['resolved']);
  });

  it('keeps an own older sibling that a write\'s context did not cover, on every peer (the delta carries it)', () => {
    const cluster = new Cluster(peers);
    okReply(cluster.write('a', { kind: 'put', requestId: 'r1', key: 'k', value: 'first' }));
    cluster.settle(3);
    // A client that read before 'first' existed writes with that (empty) context: 'first' is a sibling it did not see, and must survive the delta's merge everywhere.
    okReply(cluster.write('a', { kind: 'put', requestId: 'r2', key: 'k', value: 'second', context: {} }));
    cluster.settle(3);
    for (const id of peers) expect(registerView(register(cluster.node(id).read('k'))).values.sort()).toEqual(['first', 'second']);
  });

  it('a write without a context replaces what its peer has seen, and only that', () => {
    const cluster = new Cluster(peers);
    okReply(cluster.write('a', { kind: 'put', requestId: 'r1', key: 'k', value: 'first' }));
    okReply(cluster.write('a', { kind: 'put', requestId: 'r2', key: 'k', value: 'second' }));
    // b has not yet heard of either: its write is concurrent with them.
    okReply(cluster.write('b', { kind: 'put', requestId: 'r3', key: 'k', value: 'elsewhere' }));
    cluster.settle(3);
    for (const id of peers) expect(registerView(register(cluster.node(id).read('k'))).values.sort()).toEqual(['elsewhere', 'second']);
  });

  it('lets the latest timestamp win on a last-writer-wins key', () => {
    const cluster = new Cluster(peers);
    okReply(cluster.write('a', { kind: 'put', requestId: 'r1', key: 'k', value: 'older', lastWriterWins: true }));
    okReply(cluster.write('b', { kind: 'put', requestId: 'r2', key: 'k', value: 'newer', lastWriterWins: true }));
    cluster.settle(3);
    for (const id of peers) expect(registerView(register(cluster.node(id).read('k'))).values).toEqual(['newer']);
  });

  it('merges concurrent appends to a set by union, in timestamp order, on every peer', () => {
    const cluster = new Cluster(peers);
    for (let index = 0; index < 4; index++) for (const id of peers) okReply(cluster.write(id, { kind: 'append', requestId: `${id}${index}`, key: 'chat', value: `${id}${index}` }));
    cluster.settle(3);
    const reference = cluster.node('a').read('chat');
    expect(reference?.kind).toBe('set');
    if (reference?.kind !== 'set') return;
    expect(reference.elements).toHaveLength(12);
    const times = reference.elements.map((element) => [element.timestamp.wallMs, element.timestamp.logical]);
    expect(times).toEqual([...times].sort((left, right) => left[0] - right[0] || left[1] - right[1]));
    for (const id of peers) expect(cluster.node(id).read('chat')).toEqual(reference);
  });

  it('refuses a put to a set and an append to a register; a key made both ways on two peers becomes the set on all', () => {
    const cluster = new Cluster(peers);
    okReply(cluster.write('a', { kind: 'append', requestId: 'r1', key: 'chat', value: 'hi' }));
    okReply(cluster.write('a', { kind: 'put', requestId: 'r2', key: 'reg', value: 'v' }));
    expect(cluster.write('a', { kind: 'put', requestId: 'r3', key: 'chat', value: 'v' })).toMatchObject({ ok: false, code: 'KV_COMMAND_INVALID' });
    expect(cluster.write('a', { kind: 'append', requestId: 'r4', key: 'reg', value: 'v' })).toMatchObject({ ok: false, code: 'KV_COMMAND_INVALID' });
    okReply(cluster.write('b', { kind: 'put', requestId: 'r5', key: 'mixed', value: 'register' }));
    okReply(cluster.write('c', { kind: 'append', requestId: 'r6', key: 'mixed', value: 'element' }));
    cluster.settle(3);
    for (const id of peers) expect(cluster.node(id).read('mixed')).toMatchObject({ kind: 'set', elements: [{ value: 'element' }] });
  });

  it('refuses bad writes with a reason', () => {
    const node = new MultiLeaderNode({ id: 'a', peers, rng: new Rng(1) });
    node.write({ kind: 'put', requestId: 'empty', key: '', value: 'v' }, 1);
    node.write({ kind: 'put', requestId: 'long key', key: 'k'.repeat(keyBytesMax + 1), value: 'v' }, 1);
    node.write({ kind: 'put', requestId: 'long value', key: 'k', value: 'é'.repeat(valueBytesMax / 2 + 1) }, 1);
    node.write({ kind: 'append', requestId: 'long element', key: 'k', value: 'v'.repeat(valueBytesMax + 1) }, 1);
    node.write({ kind: 'put', requestId: 'context', key: 'k', value: 'v', context: { a: -1 } }, 1);
    const replies = node.ready().replies;
    expect(replies.map((reply) => (reply.ok ? 'ok' : reply.code))).toEqual(Array(5).fill('KV_COMMAND_INVALID'));
    expect(replies.map((reply) => (reply.ok ? '' : reply.message))).toEqual([
      expect.stringContaining('non-empty'), expect.stringContaining(`${keyBytesMax} bytes`), expect.stringContaining(`${valueBytesMax} bytes`),
      expect.stringContaining(`${valueBytesMax} bytes`), expect.stringContaining('context'),
    ]);
  });

  it('merges more concurrent siblings than one write may leave, and restarts with them', () => {
    const cluster = new Cluster(['a', 'b']);
    for (let index = 0; index < 40; index++) for (const id of ['a', 'b']) okReply(cluster.write(id, { kind: 'put', requestId: `${id}${index}`, key: 'k', value: `${id}${index}`, context: {} }));
    cluster.settle(5);
    expect(register(cluster.node('b').read('k')).siblings).toHaveLength(80);
    expect(register(cluster.start('b').read('k')).siblings).toHaveLength(80);
    // A write with the context resolves them all.
    okReply(cluster.write('b', { kind: 'put', requestId: 'resolve', key: 'k', value: 'one', context: register(cluster.node('b').read('k')).clock }));
    expect(register(cluster.node('b').read('k')).siblings).toHaveLength(1);
  });

  it('refuses a put that would make more siblings than siblingsMax', () => {
    const cluster = new Cluster(['a']);
    for (let index = 0; index < 64; index++) okReply(cluster.write('a', { kind: 'put', requestId: `r${index}`, key: 'k', value: `${index}`, context: {} }));
    expect(cluster.write('a', { kind: 'put', requestId: 'one more', key: 'k', value: 'x', context: {} })).toMatchObject({ ok: false, code: 'KV_TOO_MANY_SIBLINGS' });
  });

  it('refuses appends beyond setElementsMax', () => {
    const cluster = new Cluster(['a'], { setElementsMax: 3 });
    for (let index = 0; index < 3; index++) okReply(cluster.write('a', { kind: 'append', requestId: `r${index}`, key: 'chat', value: `${index}` }));
    expect(cluster.write('a', { kind: 'append', requestId: 'r3', key: 'chat', value: 'x' })).toMatchObject({ ok: false, code: 'KV_COMMAND_INVALID', message: expect.stringContaining('setElementsMax') });
  });

  it('checks its settings', () => {
    expect(() => new MultiLeaderNode({ id: 'a', peers, rng: new Rng(1), settings: { shipBatchMax: 0 } })).toThrow(MultiLeaderSettingsError);
    expect(() => new MultiLeaderNode({ id: 'a', peers, rng: new Rng(1), settings: { retransmitTicks: 1, shipIntervalTicks: 2 } })).toThrow(/retransmitTicks/);
  });
});

describe('MultiLeaderNode log, cursors and restarts', () => {
  it('truncates own entries once every peer acknowledged them, and reports the lag to each peer', () => {
    const cluster = new Cluster(peers);
    for (let index = 0; index < 5; index++) okReply(cluster.write('a', { kind: 'put', requestId: `r${index}`, key: `k${index}`, value: 'v' }));
    expect(cluster.node('a').status()).toMatchObject({ ownSeq: 5, logEntries: 5, peers: [{ id: 'b', entriesBehind: 5 }, { id: 'c', entriesBehind: 5 }] });
    cluster.tick();
    cluster.deliverAll((item) => item.to !== 'c' && item.from !== 'c');
    expect(cluster.node('a').status()).toMatchObject({ logEntries: 5, peers: [{ id: 'b', entriesBehind: 0, acknowledgedSeq: 5 }, { id: 'c', entriesBehind: 5 }] });
    cluster.settle(12);
    expect(cluster.node('a').status()).toMatchObject({ logEntries: 0, peers: [{ entriesBehind: 0 }, { entriesBehind: 0 }] });
    expect(cluster.stores.get('a')!.log.size).toBe(0);
  });

  it('ships the right entries across log compactions (thousands of changes, acknowledged in many steps)', () => {
    const cluster = new Cluster(['a', 'b'], { shipBatchMax: 100 });
    for (let round = 0; round < 3; round++) {
      for (let index = 0; index < 1_500; index++) okReply(cluster.write('a', { kind: 'append', requestId: `r${round}-${index}`, key: `chat${index % 100}`, value: `${round}-${index}` }));
      cluster.settle(20);
      expect(cluster.node('a').status()).toMatchObject({ ownSeq: 1_500 * (round + 1), logEntries: 0 });
    }
    const ids: string[] = [];
    for (let key = 0; key < 100; key++) {
      const chat = cluster.node('b').read(`chat${key}`);
      if (chat?.kind === 'set') ids.push(...chat.elements.map((element) => element.id));
    }
    expect(ids.sort()).toEqual(Array.from({ length: 4_500 }, (_, index) => `a:${index + 1}`).sort());
    expect(cluster.node('b').appliedVector()).toEqual({ a: 4_500 });
  });

  it('refuses writes with KV_UNAVAILABLE while a peer that is away keeps the log full, and takes them again once it catches up', () => {
    const cluster = new Cluster(peers, { logEntriesMax: 3 });
    cluster.node('a').setPeerUp('c', false);
    for (let index = 0; index < 3; index++) okReply(cluster.write('a', { kind: 'put', requestId: `r${index}`, key: 'k', value: `${index}`, context: register(cluster.node('a').read('k') ?? { kind: 'register', state: { clock: {}, siblings: [] } }).clock }));
    cluster.settle(2);
    const refused = cluster.write('a', { kind: 'append', requestId: 'full', key: 'chat', value: 'x' });
    expect(refused).toMatchObject({ ok: false, code: 'KV_UNAVAILABLE', message: expect.stringContaining('peer c') });
    cluster.node('a').setPeerUp('c', true);
    cluster.flush('a');
    cluster.settle(2);
    okReply(cluster.write('a', { kind: 'append', requestId: 'again', key: 'chat', value: 'x' }));
  });

  it('retransmits a lost batch after retransmitTicks, and the receiver ignores duplicates and gaps', () => {
    const cluster = new Cluster(['a', 'b'], { retransmitTicks: 5, shipBatchMax: 2 });
    for (let index = 0; index < 4; index++) okReply(cluster.write('a', { kind: 'append', requestId: `r${index}`, key: 'chat', value: `${index}` }));
    cluster.tick(['a']);
    const first = cluster.queue.splice(0); // the first batch (seqs 1-2) is lost
    expect(first).toHaveLength(1);
    for (let tick = 0; tick < 4; tick++) cluster.tick(['a']);
    expect(cluster.queue).toHaveLength(0); // still waiting for the ack
    cluster.tick(['a']);
    expect(cluster.queue).toHaveLength(1);
    const resent = cluster.queue[0];
    cluster.deliverAll();
    cluster.deliver(resent); // a duplicate, long after
    cluster.deliver({ from: 'a', to: 'b', message: { type: 'changes', entries: [{ ...first[0].message.type === 'changes' ? first[0].message.entries[0] : (undefined as never), seq: 9 }] } });
    cluster.deliverAll();
    const chat = cluster.node('b').read('chat');
    expect(chat?.kind === 'set' ? chat.elements.map((element) => element.value) : []).toEqual(['0', '1', '2', '3']);
    expect(cluster.node('b').appliedVector()).toEqual({ a: 4 });
  });

  it('resumes from the receiver\'s persisted cursor after either side restarts, shipping only what is missing', () => {
    const cluster = new Cluster(['a', 'b'], { shipBatchMax: 4 });
    for (let index = 0; index < 6; index++) okReply(cluster.write('a', { kind: 'append', requestId: `r${index}`, key: 'chat', value: `${index}` }));
    cluster.tick(['a']);
    cluster.deliverAll((item) => item.to === 'b'); // b applies 1-4, its ack is lost
    cluster.start('a'); // a restarts: it only knows that nobody acknowledged anything yet
    expect(cluster.node('a').status()).toMatchObject({ ownSeq: 6, logEntries: 6, peers: [{ acknowledgedSeq: 0 }] });
    cluster.start('b'); // b restarts too, from its disk: cursor a:4
    expect(cluster.node('b').appliedVector()).toEqual({ a: 4 });
    const shipped: number[] = [];
    for (let round = 0; round < 5; round++) {
      cluster.tick();
      cluster.deliverAll((item) => {
        if (item.message.type === 'changes') shipped.push(...item.message.entries.map((entry) => entry.seq));
        return true;
      });
    }
    // The first batch after the restart goes out blind (1-4); b's ack moves a's cursor to 4, and only 5-6 follow.
    expect(shipped).toEqual([1, 2, 3, 4, 5, 6]);
    expect(cluster.node('b').appliedVector()).toEqual({ a: 6 });
    expect(cluster.node('a').status().logEntries).toBe(0);
  });

  it('keeps its clock ahead of every restored timestamp, so a restarted peer still wins last-writer-wins against its old writes', () => {
    const cluster = new Cluster(['a']);
    cluster.nowMs = 10_000;
    okReply(cluster.write('a', { kind: 'put', requestId: 'r1', key: 'k', value: 'before', lastWriterWins: true }));
    cluster.start('a');
    cluster.nowMs = 10; // the wall clock went back
    const after = okReply(cluster.write('a', { kind: 'put', requestId: 'r2', key: 'k', value: 'after', lastWriterWins: true }));
    expect(registerView(after.state!).values).toEqual(['after']);
  });

  it('refuses inconsistent stored state', () => {
    const entry = { origin: 'a', seq: 2, key: 'k', change: { kind: 'append' as const, element: { id: 'a:2', timestamp: { wallMs: 1, logical: 0, node: 'a' }, value: 'v' } } };
    expect(() => new MultiLeaderNode({ id: 'a', peers, rng: new Rng(1), restored: { keys: [], log: [entry], applied: { a: 3 } } })).toThrow(MultiLeaderStateError);
    expect(() => new MultiLeaderNode({ id: 'a', peers, rng: new Rng(1), restored: { keys: [], log: [{ ...entry, origin: 'b' }], applied: { a: 2 } } })).toThrow(/another origin/);
    expect(() => new MultiLeaderNode({ id: 'a', peers, rng: new Rng(1), restored: { keys: [['k', { kind: 'set', elements: [{ id: 1 }] } as never]], log: [], applied: {} } })).toThrow(/key "k"/);
    expect(new MultiLeaderNode({ id: 'a', peers, rng: new Rng(1), restored: { keys: [], log: [entry], applied: { a: 2 } } }).status()).toMatchObject({ ownSeq: 2, logEntries: 1 });
  });
});
