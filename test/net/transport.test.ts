import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tls from 'node:tls';
import { Packr } from 'msgpackr';
import {
  ConnectFailedError,
  encodeFrame,
  PeerNotConnectedError,
  PeerRefusedError,
  RpcCancelledError,
  RpcDeadlineError,
  RpcInFlightLimitError,
  RpcRemoteError,
  TransportClosedError,
  type RpcContext,
} from '../../src/net/index.js';
import type { Identity } from '../../src/p2p/identity/index.js';
import {
  addressOf,
  delay,
  eventually,
  forgeCertificate,
  makeCluster,
  makePeer,
  removeTemporaryDirectories,
  startTransport,
} from './helpers.js';

let clusterDir: string;
let server: Identity;
let alice: Identity;
let bob: Identity;
let foreigner: Identity;
let serverTransport: Awaited<ReturnType<typeof startTransport>>;
const opened: Array<{ close(): Promise<void> }> = [];

async function open(identity: Identity, options: Parameters<typeof startTransport>[1] = {}) {
  const transport = await startTransport(identity, options);
  opened.push(transport);
  return transport;
}

beforeAll(async () => {
  clusterDir = await makeCluster('main');
  [server, alice, bob] = await Promise.all([makePeer(clusterDir), makePeer(clusterDir), makePeer(clusterDir)]);
  foreigner = await makePeer(await makeCluster('other'));
  serverTransport = await open(server);
  serverTransport.handle('whoami', (_body, context) => context.peer.nodeId);
});

afterAll(async () => {
  await Promise.all(opened.map((transport) => transport.close()));
  removeTemporaryDirectories();
});

/** Proves the server still serves an honest peer, on a connection of its own. */
async function serverStillServes(): Promise<void> {
  const honest = await open(bob, { listen: false });
  expect(await honest.request(addressOf(serverTransport), 'whoami', null)).toBe(bob.nodeId);
  await honest.close();
}

function serverRefusals(): string[] {
  return serverTransport.log.records.filter((record) => record.message === 'refused peer').map((record) => String(record.fields.reason));
}

describe('mutual TLS between peers of one cluster', () => {
  it('connects, proves both node ids and reuses one connection for every request', async () => {
    const client = await open(alice);
    const address = addressOf(serverTransport);
    expect(await client.request(address, 'echo', { text: 'hello', bytes: Buffer.from([0, 255]) })).toEqual({ text: 'hello', bytes: Buffer.from([0, 255]) });
    expect(await client.request(address, 'whoami', null)).toBe(alice.nodeId);
    expect(await client.request(server.nodeId, 'echo', 3)).toBe(3);
    const outbound = client.connectedPeers();
    expect(outbound).toEqual([expect.objectContaining({ nodeId: server.nodeId, direction: 'outbound', listenPort: address.port })]);
    const inbound = serverTransport.connectedPeers().filter((peer) => peer.nodeId === alice.nodeId);
    expect(inbound).toEqual([expect.objectContaining({ direction: 'inbound', listenPort: client.listenAddress!.port })]);
    // The server can call back over the connection the client opened.
    expect(await serverTransport.request(alice.nodeId, 'echo', 'back')).toBe('back');
    await client.close();
    await eventually(() => serverTransport.connectedPeers().every((peer) => peer.nodeId !== alice.nodeId));
  });

  it('dials again on demand after a connection closes', async () => {
    const client = await open(alice, { listen: false });
    const connection = await client.connect(addressOf(serverTransport));
    connection.close(new TransportClosedError('test closes it'));
    await connection.closed;
    expect(client.connectedPeers()).toEqual([]);
    await expect(client.request(server.nodeId, 'echo', 1)).rejects.toBeInstanceOf(PeerNotConnectedError);
    expect(await client.request(addressOf(serverTransport), 'echo', 2)).toBe(2);
    const reconnected = await client.connect(addressOf(serverTransport));
    expect(reconnected).not.toBe(connection);
    expect(reconnected.isClosed).toBe(false);
    // Once a dial without a pin has shown which node listens there, later dials reuse a connection to it.
    const unpinned = await client.connect(addressOf(serverTransport, false));
    expect(await client.connect(addressOf(serverTransport, false))).toBe(reconnected);
    expect(unpinned.peer.nodeId).toBe(server.nodeId);
    await client.close();
  });
});

describe('refusals', () => {
  it('refuses a client without a certificate, and keeps serving', async () => {
    const socket = tls.connect({ host: '127.0.0.1', port: serverTransport.listenAddress!.port, ca: server.caPem, checkServerIdentity: () => undefined });
    await new Promise((resolve) => socket.on('close', resolve).on('error', () => {}));
    await eventually(() => serverRefusals().includes('PEER_NO_CERTIFICATE'));
    await serverStillServes();
  });

  it('refuses a client whose certificate comes from another CA, and keeps serving', async () => {
    // The foreigner trusts our CA, so only the server's check can stop it.
    const client = await open({ ...foreigner, caPem: server.caPem }, { listen: false });
    const error = await client.request(addressOf(serverTransport), 'echo', 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PeerRefusedError);
    expect((error as PeerRefusedError).reason).toBe('PEER_CLOSED_DURING_HANDSHAKE');
    await eventually(() => serverRefusals().includes('PEER_UNTRUSTED_CERTIFICATE'));
    expect(serverTransport.connectedPeers().some((peer) => peer.nodeId === foreigner.nodeId)).toBe(false);
    await serverStillServes();
  });

  it('refuses, as a client, a server whose certificate comes from another CA', async () => {
    const client = await open(foreigner, { listen: false });
    const error = await client.request(addressOf(serverTransport), 'echo', 1).catch((e: unknown) => e);
    expect((error as PeerRefusedError).reason).toBe('PEER_UNTRUSTED_CERTIFICATE');
    expect(client.log.reasons()).toContain('PEER_UNTRUSTED_CERTIFICATE');
    await serverStillServes();
  });

  it("refuses a CA-signed certificate that claims another peer's node id, and keeps serving", async () => {
    const forged = await forgeCertificate(clusterDir, bob.keyPem, alice.nodeId);
    const client = await open({ nodeId: alice.nodeId, keyPem: bob.keyPem, certPem: forged, caPem: server.caPem }, { listen: false });
    const error = await client.request(addressOf(serverTransport), 'whoami', null).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PeerRefusedError);
    await eventually(() => serverRefusals().includes('PEER_NODE_ID_MISMATCH'));
    const record = serverTransport.log.records.find((entry) => entry.fields.reason === 'PEER_NODE_ID_MISMATCH')!;
    expect(String(record.fields.detail)).toContain(`claims node id ${alice.nodeId}`);
    await serverStillServes();
  });

  it('refuses a dial whose pinned node id differs from the one reached, and keeps serving', async () => {
    const client = await open(alice, { listen: false });
    const error = await client.request({ ...addressOf(serverTransport), nodeId: bob.nodeId }, 'echo', 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PeerRefusedError);
    expect((error as PeerRefusedError).reason).toBe('PEER_PIN_MISMATCH');
    expect(client.log.reasons()).toContain('PEER_PIN_MISMATCH');
    expect(client.connectedPeers()).toEqual([]);
    await serverStillServes();
  });

  it('refuses to connect to itself', async () => {
    const self = await open(server, { listen: false });
    const error = await self.request(addressOf(serverTransport, false), 'echo', 1).catch((e: unknown) => e);
    expect((error as PeerRefusedError).reason).toBe('PEER_IS_SELF');
  });

  it('refuses a peer that completes TLS but never greets', async () => {
    const strict = await open(server, { limits: { handshakeTimeoutMs: 500 } });
    const socket = tls.connect({ host: '127.0.0.1', port: strict.listenAddress!.port, key: alice.keyPem, cert: alice.certPem, ca: alice.caPem, checkServerIdentity: () => undefined });
    // Read (and ignore) the server's greeting, so that the socket sees the server hang up.
    socket.resume();
    await new Promise((resolve) => socket.on('close', resolve).on('error', () => {}));
    expect(strict.log.reasons()).toContain('PEER_HANDSHAKE_TIMEOUT');
  });

  it('reports a port where nobody listens as a failed connect', async () => {
    const gone = await open(bob);
    const address = addressOf(gone);
    await gone.close();
    const client = await open(alice, { listen: false });
    await expect(client.request(address, 'echo', 1)).rejects.toBeInstanceOf(ConnectFailedError);
  });
});

describe('broken frames close only their own connection', () => {
  const packer = new Packr({ useRecords: false });

  /** A hand-driven client with alice's certificate that greets properly, then sends `bytes`. */
  async function sendAfterGreeting(bytes: Buffer): Promise<void> {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: serverTransport.listenAddress!.port,
      key: alice.keyPem,
      cert: alice.certPem,
      ca: alice.caPem,
      checkServerIdentity: () => undefined,
    });
    socket.on('error', () => {});
    socket.resume();
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    socket.write(encodeFrame({ type: 'hello', nodeId: alice.nodeId, listenPort: 0 }) as Buffer);
    await eventually(() => serverTransport.connectedPeers().some((peer) => peer.nodeId === alice.nodeId));
    socket.write(bytes);
    await new Promise((resolve) => socket.on('close', resolve));
  }

  function frame(body: Uint8Array, version = 1): Buffer {
    const header = Buffer.alloc(5);
    header.writeUInt32BE(body.length + 1, 0);
    header[4] = version;
    return Buffer.concat([header, body]);
  }

  it.each([
    ['an oversized frame', Buffer.from([0x7f, 0xff, 0xff, 0xff, 1]), 'FRAME_OVERSIZED'],
    ['a frame of an unknown version', frame(packer.pack({ type: 'cancel', id: 1 }), 9), 'FRAME_VERSION_UNSUPPORTED'],
    ['garbage', frame(Buffer.from('this is not msgpack at all')), 'FRAME_UNDECODABLE'],
    ['an unknown envelope type', frame(packer.pack({ type: 'gossip', id: 1 })), 'FRAME_ENVELOPE_INVALID'],
    ['a second greeting', encodeFrame({ type: 'hello', nodeId: 'x', listenPort: 0 }) as Buffer, 'PROTOCOL_VIOLATION'],
    ['a response to a request never sent', encodeFrame({ type: 'res', id: 99 }) as Buffer, 'PROTOCOL_VIOLATION'],
  ])('%s', async (_name, bytes, code) => {
    const bystander = await open(bob, { listen: false });
    let bystanderDisconnects = 0;
    const connection = await bystander.connect(addressOf(serverTransport));
    void connection.closed.then(() => bystanderDisconnects++);
    const before = serverTransport.log.records.length;

    await sendAfterGreeting(bytes);

    const logged = serverTransport.log.records.slice(before).map((record) => record.fields.code);
    expect(logged).toContain(code);
    await eventually(() => serverTransport.connectedPeers().every((peer) => peer.nodeId !== alice.nodeId));
    expect(await bystander.request(server.nodeId, 'whoami', null)).toBe(bob.nodeId);
    expect(bystanderDisconnects).toBe(0);
    expect(connection.isClosed).toBe(false);
    await bystander.close();
  });
});

describe('a peer that stops reading', () => {
  it('has its connection closed once the send buffer limit is reached, and only that one', async () => {
    const frameBytesMax = 64 * 1024;
    const receiver = await open(bob, { limits: { frameBytesMax, sendBufferBytesMax: 2 * frameBytesMax } });
    const bystander = await open(server, { listen: false });
    await bystander.connect(addressOf(receiver));
    const socket = tls.connect({ host: '127.0.0.1', port: receiver.listenAddress!.port, key: alice.keyPem, cert: alice.certPem, ca: alice.caPem, checkServerIdentity: () => undefined });
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    socket.write(encodeFrame({ type: 'hello', nodeId: alice.nodeId, listenPort: 0 }) as Buffer);
    // Ask for echoes of 60 KiB again and again, and never read the answers.
    const body = Buffer.alloc(60 * 1024, 7);
    let id = 0;
    const closed = new Promise((resolve) => socket.on('close', resolve));
    const writeMore = () => {
      while (!socket.destroyed && id < 2_000 && socket.write(encodeFrame({ type: 'req', id: ++id, method: 'echo', timeoutMs: 5_000, body }) as Buffer));
    };
    socket.on('drain', writeMore);
    writeMore();
    await closed;
    const record = receiver.log.records.find((entry) => String(entry.message).includes('the peer is not reading'));
    expect(record?.fields.nodeId).toBe(alice.nodeId);
    expect(await bystander.request(bob.nodeId, 'echo', 'fine')).toBe('fine');
  });
});

describe('RPC over TLS', () => {
  it('applies deadlines, cancellation, the in-flight limit and unknown methods across the network', async () => {
    const receiver = await open(bob);
    const contexts: RpcContext[] = [];
    receiver.handle('hang', (_body, context) => {
      contexts.push(context);
      return new Promise(() => {});
    });
    const caller = await open(alice, { listen: false, limits: { requestsInFlightPerPeerMax: 2 } });
    const address = addressOf(receiver);

    await expect(caller.request(address, 'hang', null, { timeoutMs: 50 })).rejects.toBeInstanceOf(RpcDeadlineError);
    await eventually(() => contexts[0]?.signal.aborted === true);

    const controller = new AbortController();
    const cancelled = caller.request(address, 'hang', null, { signal: controller.signal });
    await eventually(() => contexts.length === 2);
    controller.abort();
    await expect(cancelled).rejects.toBeInstanceOf(RpcCancelledError);
    await eventually(() => contexts[1].signal.aborted);

    const first = caller.request(address, 'hang', null, { timeoutMs: 300 });
    const second = caller.request(address, 'hang', null, { timeoutMs: 300 });
    await expect(caller.request(address, 'hang', null)).rejects.toBeInstanceOf(RpcInFlightLimitError);
    await expect(Promise.all([first, second])).rejects.toBeInstanceOf(RpcDeadlineError);

    const unknown = await caller.request(address, 'no.such.method', null).catch((e: unknown) => e);
    expect((unknown as RpcRemoteError).remoteCode).toBe('RPC_UNKNOWN_METHOD');
    expect(await caller.request(address, 'echo', 'still open')).toBe('still open');
    expect(caller.connectedPeers()).toHaveLength(1);
  });

  it('closes cleanly: outstanding requests fail and nothing new is sent', async () => {
    const receiver = await open(bob);
    receiver.handle('hang', () => new Promise(() => {}));
    const caller = await open(alice, { listen: false });
    const pending = caller.request(addressOf(receiver), 'hang', null, { timeoutMs: 5_000 }).catch((e: unknown) => e);
    await eventually(() => receiver.connectedPeers().length === 1);
    await delay(10);
    await caller.close();
    expect(await pending).toMatchObject({ code: 'CONNECTION_CLOSED' });
    await expect(caller.request(addressOf(receiver), 'echo', 1)).rejects.toBeInstanceOf(TransportClosedError);
    await eventually(() => receiver.connectedPeers().length === 0);
    await receiver.close();
  });
});
