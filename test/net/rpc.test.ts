import { describe, expect, it } from 'vitest';
import {
  ConnectionClosedError,
  encodeFrame,
  FrameDecoder,
  FrameError,
  parseEnvelope,
  ProtocolError,
  RpcCancelledError,
  RpcDeadlineError,
  RpcHandlerError,
  RpcInFlightLimitError,
  RpcRemoteError,
  RpcRequestInvalidError,
  silentLogger,
  type Envelope,
  type RpcContext,
  type RpcHandler,
  RpcSession,
} from '../../src/net/index.js';
import { delay, eventually } from './helpers.js';

interface Side {
  session: RpcSession;
  handlers: Map<string, RpcHandler>;
  violations: ProtocolError[];
  sent: Envelope[];
}

/**
 * Two sessions joined by an in-memory wire that really encodes and decodes every frame,
 * delivering them asynchronously and in order, as a socket would.
 */
function sessionPair(limits: { callerInFlightMax?: number; receiverInFlightMax?: number; frameBytesMax?: number } = {}) {
  const make = (name: string, requestsInFlightMax: number): Side => {
    const side: Side = { session: undefined as unknown as RpcSession, handlers: new Map(), violations: [], sent: [] };
    side.session = new RpcSession({
      peer: { nodeId: name, host: '127.0.0.1', port: 1, listenPort: 0, direction: 'outbound' },
      send: (envelope) => {
        const frame = encodeFrame(envelope, limits.frameBytesMax);
        if (frame instanceof FrameError) return frame;
        side.sent.push(envelope);
        wire(side, frame);
        return undefined;
      },
      handlerFor: (method) => side.handlers.get(method),
      onViolation: (error) => void side.violations.push(error),
      logger: silentLogger,
      requestsInFlightMax,
      requestTimeoutMsDefault: 1_000,
    });
    return side;
  };
  const caller = make('receiver-node', limits.callerInFlightMax ?? 8);
  const receiver = make('caller-node', limits.receiverInFlightMax ?? 8);
  const decoders = new Map([caller, receiver].map((side) => [side, new FrameDecoder({ frameBytesMax: 16 * 1024 * 1024, parse: parseEnvelope })]));
  const wire = (from: Side, frame: Buffer) => {
    const to = from === caller ? receiver : caller;
    setImmediate(() => {
      const { frames, error } = decoders.get(to)!.push(frame);
      expect(error).toBeUndefined();
      for (const envelope of frames) if (envelope.type !== 'hello') to.session.receive(envelope);
    });
  };
  return { caller, receiver };
}

describe('RpcSession', () => {
  it('answers requests in both directions', async () => {
    const { caller, receiver } = sessionPair();
    receiver.handlers.set('add', (body) => (body as { a: number; b: number }).a + (body as { a: number; b: number }).b);
    caller.handlers.set('hello', async () => ({ greeting: 'hi', bytes: Buffer.from([1, 2]) }));
    expect(await caller.session.request('add', { a: 2, b: 3 })).toBe(5);
    expect(await receiver.session.request('hello', undefined)).toEqual({ greeting: 'hi', bytes: Buffer.from([1, 2]) });
    expect(caller.violations).toEqual([]);
    expect(receiver.violations).toEqual([]);
  });

  it('answers an unknown method with an error response and keeps the connection', async () => {
    const { caller, receiver } = sessionPair();
    receiver.handlers.set('known', () => 'ok');
    const error = await caller.session.request('unknown.method', null).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcRemoteError);
    expect((error as RpcRemoteError).remoteCode).toBe('RPC_UNKNOWN_METHOD');
    expect(await caller.session.request('known', null)).toBe('ok');
    expect(receiver.violations).toEqual([]);
  });

  it('sends handler failures back with their code', async () => {
    const { caller, receiver } = sessionPair();
    receiver.handlers.set('typed', () => {
      throw new RpcHandlerError('NOT_FOUND', 'no such key');
    });
    receiver.handlers.set('broken', async () => {
      throw new Error('boom');
    });
    await expect(caller.session.request('typed', null)).rejects.toMatchObject({ remoteCode: 'NOT_FOUND', remoteMessage: 'no such key' });
    await expect(caller.session.request('broken', null)).rejects.toMatchObject({ remoteCode: 'RPC_HANDLER_FAILED', remoteMessage: 'boom' });
  });

  it('enforces deadlines on both sides: the caller stops waiting and the receiver aborts and drops the work', async () => {
    const { caller, receiver } = sessionPair();
    let context: RpcContext | undefined;
    let finishWork: (value: string) => void = () => {};
    receiver.handlers.set('slow', (_body, ctx) => {
      context = ctx;
      return new Promise((resolve) => (finishWork = resolve));
    });
    const started = Date.now();
    const error = await caller.session.request('slow', null, { timeoutMs: 60 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcDeadlineError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    await eventually(() => context?.signal.aborted === true);
    expect(receiver.session.requestsInFlightIn).toBe(0);
    // The work finishing late sends nothing.
    const sentBefore = receiver.sent.length;
    finishWork('too late');
    await delay(10);
    expect(receiver.sent.length).toBe(sentBefore);
    expect(caller.violations).toEqual([]);
  });

  it('drops work on the receiver when its own deadline passes, even if no cancel arrives', async () => {
    const { caller, receiver } = sessionPair();
    let context: RpcContext | undefined;
    receiver.handlers.set('slow', (_body, ctx) => {
      context = ctx;
      return new Promise(() => {});
    });
    // Deliver a request by hand, so that no caller-side timer sends a cancel.
    receiver.session.receive({ type: 'req', id: 1, method: 'slow', timeoutMs: 40 });
    await delay(5);
    expect(receiver.session.requestsInFlightIn).toBe(1);
    await eventually(() => context?.signal.aborted === true);
    expect(context!.signal.reason).toBeInstanceOf(RpcDeadlineError);
    expect(receiver.session.requestsInFlightIn).toBe(0);
    expect(receiver.sent).toEqual([]);
    void caller;
  });

  it('cancels a request: the caller rejects, the receiver aborts its handler', async () => {
    const { caller, receiver } = sessionPair();
    let context: RpcContext | undefined;
    receiver.handlers.set('slow', (_body, ctx) => {
      context = ctx;
      return new Promise(() => {});
    });
    const controller = new AbortController();
    const pending = caller.session.request('slow', null, { signal: controller.signal, timeoutMs: 5_000 });
    await eventually(() => context !== undefined);
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(RpcCancelledError);
    await eventually(() => context!.signal.aborted);
    expect(context!.signal.reason).toBeInstanceOf(RpcCancelledError);
    expect(caller.sent.map((envelope) => envelope.type)).toEqual(['req', 'cancel']);
    expect(receiver.session.requestsInFlightIn).toBe(0);

    const sentBefore = caller.sent.length;
    const already = new AbortController();
    already.abort();
    await expect(caller.session.request('slow', null, { signal: already.signal })).rejects.toBeInstanceOf(RpcCancelledError);
    expect(caller.sent.length).toBe(sentBefore);
  });

  it('refuses a request beyond the in-flight limit at once, and accepts again when one finishes', async () => {
    const { caller, receiver } = sessionPair({ callerInFlightMax: 2 });
    const release: Array<() => void> = [];
    receiver.handlers.set('wait', () => new Promise<string>((resolve) => release.push(() => resolve('done'))));
    const first = caller.session.request('wait', null);
    const second = caller.session.request('wait', null);
    await expect(caller.session.request('wait', null)).rejects.toBeInstanceOf(RpcInFlightLimitError);
    expect(caller.session.requestsInFlightOut).toBe(2);
    await eventually(() => release.length === 2);
    release[0]();
    expect(await first).toBe('done');
    const third = caller.session.request('wait', null);
    await eventually(() => release.length === 3);
    release[1]();
    release[2]();
    expect(await Promise.all([second, third])).toEqual(['done', 'done']);
  });

  it('answers a peer that exceeds the receiving limit with RPC_OVERLOADED', async () => {
    const { caller, receiver } = sessionPair({ callerInFlightMax: 8, receiverInFlightMax: 1 });
    receiver.handlers.set('wait', () => new Promise(() => {}));
    const first = caller.session.request('wait', null, { timeoutMs: 200 });
    await expect(caller.session.request('wait', null)).rejects.toMatchObject({ remoteCode: 'RPC_OVERLOADED' });
    await expect(first).rejects.toBeInstanceOf(RpcDeadlineError);
  });

  it('turns requests it cannot send into typed errors', async () => {
    const { caller, receiver } = sessionPair({ frameBytesMax: 1024 });
    receiver.handlers.set('big', () => Buffer.alloc(4096));
    await expect(caller.session.request('bad name', null)).rejects.toBeInstanceOf(RpcRequestInvalidError);
    await expect(caller.session.request('m', null, { timeoutMs: 0 })).rejects.toBeInstanceOf(RpcRequestInvalidError);
    await expect(caller.session.request('m', null, { timeoutMs: 1e9 })).rejects.toBeInstanceOf(RpcRequestInvalidError);
    await expect(caller.session.request('m', Buffer.alloc(4096))).rejects.toMatchObject({ code: 'FRAME_OVERSIZED' });
    await expect(caller.session.request('big', null)).rejects.toMatchObject({ remoteCode: 'RPC_RESPONSE_TOO_LARGE' });
    expect(caller.session.requestsInFlightOut).toBe(0);
  });

  it('reports request ids that break the protocol', () => {
    const { receiver } = sessionPair();
    receiver.handlers.set('m', () => null);
    receiver.session.receive({ type: 'res', id: 1, body: null });
    receiver.session.receive({ type: 'err', id: 3, code: 'X', message: '' });
    receiver.session.receive({ type: 'cancel', id: 1 });
    receiver.session.receive({ type: 'req', id: 5, method: 'm', timeoutMs: 100 });
    receiver.session.receive({ type: 'req', id: 5, method: 'm', timeoutMs: 100 });
    receiver.session.receive({ type: 'req', id: 4, method: 'm', timeoutMs: 100 });
    expect(receiver.violations.map((error) => error.message)).toEqual([
      'the peer answered request 1, which was never sent',
      'the peer answered request 3, which was never sent',
      'the peer cancelled request 1, which it never sent',
      'request id 5 does not rise above the previous 5',
      'request id 4 does not rise above the previous 5',
    ]);
  });

  it('drops a late response to a request that already timed out', async () => {
    const { caller, receiver } = sessionPair();
    receiver.handlers.set('m', () => 'x');
    await expect(caller.session.request('m', null, { timeoutMs: 1_000 })).resolves.toBe('x');
    caller.session.receive({ type: 'res', id: 1, body: 'again' });
    expect(caller.violations).toEqual([]);
  });

  it('fails every outstanding request and aborts every handler when closed', async () => {
    const { caller, receiver } = sessionPair();
    let context: RpcContext | undefined;
    receiver.handlers.set('wait', (_body, ctx) => {
      context = ctx;
      return new Promise(() => {});
    });
    const pending = caller.session.request('wait', null);
    await eventually(() => context !== undefined);
    const reason = new ConnectionClosedError('gone');
    caller.session.close(reason);
    receiver.session.close(reason);
    await expect(pending).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(context!.signal.aborted).toBe(true);
    await expect(caller.session.request('wait', null)).rejects.toBeInstanceOf(ConnectionClosedError);
  });
});
