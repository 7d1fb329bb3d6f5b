/**
 * The transport: TCP + TLS 1.3 with mutual authentication against the cluster CA, one
 * connection per peer reused for every RPC, dialed again on demand after it closes.
 *
 * Both directions run the same handshake (peer-connection.ts): the peer must present a
 * certificate that verifies against the cluster CA, whose public key hashes to the node
 * ID it names, which is the node ID the dialed address pins (if it pins one), and which
 * is not this node's own. A refused peer is logged with the reason and its socket is
 * destroyed; it never reaches a handler, and other peers' connections are untouched.
 */
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { assert } from '../core/assert.js';
import {
  closeGraceMs,
  connectionsMax,
  connectTimeoutMs,
  frameBytesMax,
  handshakeTimeoutMs,
  requestsInFlightPerPeerMax,
  requestTimeoutMsDefault,
  sendBufferBytesMax,
} from './constants.js';
import { isMethodName, isRequestTimeoutMs } from './envelope.js';
import {
  ConnectFailedError,
  ListenFailedError,
  NetError,
  PeerNotConnectedError,
  PeerRefusedError,
  TransportClosedError,
} from './errors.js';
import { checkFrameBytesMax } from './frame.js';
import { silentLogger, type Logger } from './logger.js';
import { handshake, PeerConnection, type PeerConnectionLimits } from './peer-connection.js';
import type { PeerAuthenticator } from './peer-verify.js';
import type { RequestOptions, RpcHandler, RpcPeer } from './rpc.js';

/** A node's key, certificate and the CA certificate it trusts, all PEM. */
export interface TransportIdentity {
  nodeId: string;
  keyPem: string;
  certPem: string;
  caPem: string;
}

/** Where a peer listens, and optionally the node ID it must prove (a pin). */
export interface PeerAddress {
  host: string;
  port: number;
  nodeId?: string;
}

export interface TransportLimits extends PeerConnectionLimits {
  connectTimeoutMs: number;
  connectionsMax: number;
}

export const transportLimitsDefault: TransportLimits = {
  frameBytesMax,
  sendBufferBytesMax,
  closeGraceMs,
  handshakeTimeoutMs,
  requestsInFlightPerPeerMax,
  requestTimeoutMsDefault,
  connectTimeoutMs,
  connectionsMax,
};

export interface TransportOptions {
  identity: TransportIdentity;
  /** Maps a peer certificate to the node ID it proves: `authenticatePeerCertificate` from p2p/identity. */
  authenticatePeer: PeerAuthenticator;
  logger?: Logger;
  limits?: Partial<TransportLimits>;
  onPeerConnected?: (peer: RpcPeer) => void;
  onPeerDisconnected?: (peer: RpcPeer, reason: NetError) => void;
}

export class Transport {
  readonly nodeId: string;
  readonly limits: TransportLimits;
  private readonly options: TransportOptions;
  private readonly logger: Logger;
  private readonly secureContext: tls.SecureContext;
  private readonly handlers = new Map<string, RpcHandler>();
  private readonly connectionsByNodeId = new Map<string, Set<PeerConnection>>();
  /** Node IDs reached through addresses dialed without a pin, while their connection is open. */
  private readonly nodeIdByAddress = new Map<string, string>();
  private readonly dials = new Map<string, Promise<PeerConnection>>();
  private readonly handshaking = new Set<tls.TLSSocket>();
  private connectionCount = 0;
  private server: tls.Server | undefined;
  private listenAddressValue: { host: string; port: number } | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: TransportOptions) {
    this.options = options;
    this.nodeId = options.identity.nodeId;
    this.logger = options.logger ?? silentLogger;
    this.limits = { ...transportLimitsDefault, ...options.limits };
    checkLimits(this.limits);
    // Building the context once checks that key and certificate belong together, and every dial reuses it.
    this.secureContext = tls.createSecureContext({ ...this.credentials(), minVersion: 'TLSv1.3' });
  }

  /** The address this node accepts connections on, once `listen` has resolved. */
  get listenAddress(): { host: string; port: number } | undefined {
    return this.listenAddressValue;
  }

  /** Registers the handler of one method, for requests from every peer. */
  handle(method: string, handler: RpcHandler): void {
    assert(isMethodName(method), `invalid method name ${JSON.stringify(method)}`);
    assert(!this.handlers.has(method), `a handler for ${method} is already registered`);
    this.handlers.set(method, handler);
  }

  /** Accepts connections on host:port (port 0 picks a free one); resolves with the bound address. */
  async listen(host: string, port: number): Promise<{ host: string; port: number }> {
    assert(this.server === undefined, 'a transport listens once');
    if (this.closing !== undefined) throw new TransportClosedError('the transport is closed');
    const server = tls.createServer({
      ...this.credentials(),
      minVersion: 'TLSv1.3',
      requestCert: true,
      // Verified by hand in peer-verify.ts, so that every refusal is logged with its reason.
      rejectUnauthorized: false,
      handshakeTimeout: this.limits.handshakeTimeoutMs,
      // Frames are small and latency-bound (Raft appends, acknowledgements): Nagle's
      // algorithm would hold each one back for the peer's delayed ACK, tens of milliseconds.
      noDelay: true,
    });
    server.maxConnections = this.limits.connectionsMax;
    server.on('secureConnection', (socket: tls.TLSSocket) => this.accept(socket));
    server.on('tlsClientError', (error: Error, socket: tls.TLSSocket) => {
      this.refused(socket, 'PEER_TLS_FAILED', `TLS handshake failed: ${error.message}`);
    });
    server.on('drop', (data?: { remoteAddress?: string; remotePort?: number }) => {
      this.logger.warn({ remote: `${data?.remoteAddress}:${data?.remotePort}`, direction: 'inbound', reason: 'PEER_CONNECTIONS_FULL' }, 'refused peer');
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(new ListenFailedError(`cannot listen on ${host}:${port}: ${error.message}`)));
      server.listen(port, host, () => resolve());
    });
    server.on('error', (error) => this.logger.error({ detail: error.message }, 'server error'));
    const bound = server.address() as AddressInfo;
    this.listenAddressValue = { host, port: bound.port };
    this.logger.info({ nodeId: this.nodeId, host, port: bound.port }, 'listening');
    return this.listenAddressValue;
  }

  /** An open connection to the peer, reused if there is one, dialed if not. */
  connect(address: PeerAddress): Promise<PeerConnection> {
    if (this.closing !== undefined) return Promise.reject(new TransportClosedError('the transport is closed'));
    checkAddress(address);
    const addressKey = `${address.host}:${address.port}`;
    const knownNodeId = address.nodeId ?? this.nodeIdByAddress.get(addressKey);
    const existing = knownNodeId === undefined ? undefined : this.openConnection(knownNodeId);
    if (existing !== undefined) return Promise.resolve(existing);
    const dialKey = address.nodeId ?? addressKey;
    const inFlight = this.dials.get(dialKey);
    if (inFlight !== undefined) return inFlight;
    const dial = this.dial(address)
      .then((connection) => {
        if (!this.register(connection)) throw new TransportClosedError('the transport closed while connecting');
        if (address.nodeId === undefined) this.nodeIdByAddress.set(addressKey, connection.peer.nodeId);
        return connection;
      })
      .finally(() => this.dials.delete(dialKey));
    this.dials.set(dialKey, dial);
    return dial;
  }

  /**
   * Sends one request. `to` is a node ID with an open connection, or an address to
   * connect to (reusing an open connection to the same node).
   */
  async request(to: string | PeerAddress, method: string, body?: unknown, options?: RequestOptions): Promise<unknown> {
    const connection = typeof to === 'string' ? this.openConnection(to) : await this.connect(to);
    if (connection === undefined) {
      throw new PeerNotConnectedError(`no open connection to ${to}; send the request to its address (host:port#nodeid) to connect`);
    }
    return connection.request(method, body, options);
  }

  /** The peers with an open connection (a peer connected both ways appears twice). */
  connectedPeers(): RpcPeer[] {
    const peers: RpcPeer[] = [];
    for (const connections of this.connectionsByNodeId.values()) {
      for (const connection of connections) if (!connection.isClosed) peers.push(connection.peer);
    }
    return peers;
  }

  /** Stops listening, closes every connection and resolves once all are closed. */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    const waits: Promise<unknown>[] = [];
    const server = this.server;
    if (server !== undefined) waits.push(new Promise<void>((resolve) => server.close(() => resolve())));
    for (const socket of this.handshaking) socket.destroy();
    const reason = new TransportClosedError('this node is shutting down');
    for (const connections of this.connectionsByNodeId.values()) {
      for (const connection of connections) {
        connection.close(reason);
        waits.push(connection.closed);
      }
    }
    this.closing = Promise.all(waits).then(() => undefined);
    return this.closing;
  }

  private credentials(): { key: string; cert: string; ca: string } {
    return { key: this.options.identity.keyPem, cert: this.options.identity.certPem, ca: this.options.identity.caPem };
  }

  private openConnection(nodeId: string): PeerConnection | undefined {
    for (const connection of this.connectionsByNodeId.get(nodeId) ?? []) if (!connection.isClosed) return connection;
    return undefined;
  }

  private atConnectionLimit(): boolean {
    return this.connectionCount + this.handshaking.size >= this.limits.connectionsMax;
  }

  private refused(socket: tls.TLSSocket, reason: string, detail: string): void {
    this.logger.warn({ remote: `${socket.remoteAddress}:${socket.remotePort}`, direction: 'inbound', reason, detail }, 'refused peer');
    socket.destroy();
  }

  private accept(socket: tls.TLSSocket): void {
    if (this.closing !== undefined) return void socket.destroy();
    if (this.atConnectionLimit()) {
      return this.refused(socket, 'PEER_CONNECTIONS_FULL', `this node already has ${this.limits.connectionsMax} connections, the most allowed`);
    }
    this.handshaking.add(socket);
    handshake(this.handshakeOptions(socket, 'inbound', undefined)).then(
      (connection) => {
        this.handshaking.delete(socket);
        this.register(connection);
      },
      (error: PeerRefusedError) => {
        // A refusal by this side has been logged and the socket destroyed; nothing else changes.
        // A peer that hangs up is noted, since it may be refusing this node's certificate.
        this.handshaking.delete(socket);
        if (error.reason === 'PEER_CLOSED_DURING_HANDSHAKE') {
          this.logger.info({ remote: `${socket.remoteAddress}:${socket.remotePort}`, direction: 'inbound', detail: error.message }, 'peer left during the handshake');
        }
      },
    );
  }

  private dial(address: PeerAddress): Promise<PeerConnection> {
    const label = `${address.host}:${address.port}`;
    if (this.atConnectionLimit()) {
      return Promise.reject(new PeerRefusedError('PEER_CONNECTIONS_FULL', `this node already has ${this.limits.connectionsMax} connections, the most allowed`));
    }
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        host: address.host,
        port: address.port,
        secureContext: this.secureContext,
        minVersion: 'TLSv1.3',
        // Verified by hand in peer-verify.ts; peers are named by node ID, not by host name.
        rejectUnauthorized: false,
        checkServerIdentity: () => undefined,
      });
      socket.setNoDelay(true);
      this.handshaking.add(socket);
      let settled = false;
      const finish = (error: NetError | undefined, connection?: PeerConnection) => {
        if (settled) return void connection?.close(new TransportClosedError('connect timed out'));
        settled = true;
        clearTimeout(timer);
        this.handshaking.delete(socket);
        if (error === undefined) return resolve(connection!);
        socket.destroy();
        reject(error);
      };
      const timer = setTimeout(
        () => finish(new ConnectFailedError(`could not connect to ${label} and complete the handshake within ${this.limits.connectTimeoutMs} ms`)),
        this.limits.connectTimeoutMs,
      );
      // Stays attached for the socket's life: later errors are recorded by the connection itself.
      socket.on('error', (error: NodeJS.ErrnoException) => {
        if (settled) return;
        if (typeof error.code === 'string' && error.code.startsWith('ERR_SSL')) {
          this.logger.warn({ remote: label, direction: 'outbound', reason: 'PEER_TLS_FAILED', detail: error.message }, 'refused peer');
          return finish(new PeerRefusedError('PEER_TLS_FAILED', `TLS handshake with ${label} failed: ${error.message}`));
        }
        finish(new ConnectFailedError(`cannot connect to ${label}: ${error.message}`));
      });
      const onEarlyClose = () => finish(new ConnectFailedError(`connection to ${label} closed before the TLS handshake completed`));
      socket.once('close', onEarlyClose);
      socket.once('secureConnect', () => {
        // From here on the handshake owns the socket and reports how it ends.
        socket.off('close', onEarlyClose);
        handshake(this.handshakeOptions(socket, 'outbound', address.nodeId)).then(
          (connection) => finish(undefined, connection),
          (error: NetError) => finish(error),
        );
      });
    });
  }

  private handshakeOptions(socket: tls.TLSSocket, direction: 'inbound' | 'outbound', pinnedNodeId: string | undefined) {
    return {
      socket,
      direction,
      ownNodeId: this.nodeId,
      listenPort: this.listenAddressValue?.port ?? 0,
      pinnedNodeId,
      authenticate: this.options.authenticatePeer,
      handlerFor: (method: string) => this.handlers.get(method),
      limits: this.limits,
      logger: this.logger,
    };
  }

  /** Adds an established connection; false (and the connection closed) if the transport is closing. */
  private register(connection: PeerConnection): boolean {
    if (this.closing !== undefined) {
      connection.close(new TransportClosedError('this node is shutting down'));
      return false;
    }
    const nodeId = connection.peer.nodeId;
    let connections = this.connectionsByNodeId.get(nodeId);
    if (connections === undefined) this.connectionsByNodeId.set(nodeId, (connections = new Set()));
    connections.add(connection);
    this.connectionCount++;
    this.options.onPeerConnected?.(connection.peer);
    void connection.closed.then((reason) => {
      connections.delete(connection);
      this.connectionCount--;
      if (connections.size === 0) {
        this.connectionsByNodeId.delete(nodeId);
        for (const [address, mapped] of this.nodeIdByAddress) if (mapped === nodeId) this.nodeIdByAddress.delete(address);
      }
      this.options.onPeerDisconnected?.(connection.peer, reason);
    });
    return true;
  }
}

function checkLimits(limits: TransportLimits): void {
  checkFrameBytesMax(limits.frameBytesMax);
  const positive = ['closeGraceMs', 'handshakeTimeoutMs', 'requestsInFlightPerPeerMax', 'connectTimeoutMs', 'connectionsMax'] as const;
  for (const name of positive) {
    if (!Number.isInteger(limits[name]) || limits[name] < 1) throw new RangeError(`${name} must be a positive integer, got ${limits[name]}`);
  }
  if (!isRequestTimeoutMs(limits.requestTimeoutMsDefault)) {
    throw new RangeError(`requestTimeoutMsDefault must be a whole number of milliseconds within the protocol's maximum, got ${limits.requestTimeoutMsDefault}`);
  }
  // One frame of the largest size must always fit in the send buffer.
  if (!(limits.sendBufferBytesMax >= limits.frameBytesMax)) {
    throw new RangeError(`sendBufferBytesMax (${limits.sendBufferBytesMax}) must be at least frameBytesMax (${limits.frameBytesMax})`);
  }
}

function checkAddress(address: PeerAddress): void {
  if (typeof address.host !== 'string' || address.host === '') throw new RangeError('a peer address needs a host');
  if (!Number.isInteger(address.port) || address.port < 1 || address.port > 65535) {
    throw new RangeError(`a peer address needs a port from 1 to 65535, got ${address.port}`);
  }
}
