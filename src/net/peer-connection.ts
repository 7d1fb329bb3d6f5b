/**
 * One authenticated connection to one peer, and the handshake that makes it.
 *
 * After TLS, each side checks the other's certificate (peer-verify.ts). If it passes, the
 * side sends a greeting, `hello { nodeId, listenPort }`, and waits for the other's; the
 * greeting must name the node the certificate proved. Only then does RPC start. The
 * greeting is what tells a dialer it was accepted: under TLS 1.3 the client finishes its
 * handshake before the server has looked at the client's certificate, so a refused
 * client only learns of the refusal when the connection closes without a greeting.
 */
import type { TLSSocket } from 'node:tls';
import { FramedConnection } from './connection.js';
import type { Envelope } from './envelope.js';
import { FrameError, NetError, PeerRefusedError, ProtocolError, type PeerRefusalReason } from './errors.js';
import type { LogFields, Logger } from './logger.js';
import { verifyPeer, type PeerAuthenticator } from './peer-verify.js';
import { RpcSession, type RequestOptions, type RpcHandler, type RpcPeer } from './rpc.js';

export interface PeerConnectionLimits {
  frameBytesMax: number;
  sendBufferBytesMax: number;
  closeGraceMs: number;
  handshakeTimeoutMs: number;
  requestsInFlightPerPeerMax: number;
  requestTimeoutMsDefault: number;
}

export interface HandshakeOptions {
  socket: TLSSocket;
  direction: 'inbound' | 'outbound';
  ownNodeId: string;
  /** The port this node accepts connections on (0 if none), announced in the greeting. */
  listenPort: number;
  pinnedNodeId?: string;
  authenticate: PeerAuthenticator;
  handlerFor: (method: string) => RpcHandler | undefined;
  limits: PeerConnectionLimits;
  logger: Logger;
}

/** A connection that passed the handshake: RPC to and from one proven peer. */
export class PeerConnection {
  readonly peer: RpcPeer;
  /** Resolves with the reason once the connection has closed. */
  readonly closed: Promise<NetError>;
  private readonly connection: FramedConnection;
  private readonly session: RpcSession;

  constructor(peer: RpcPeer, connection: FramedConnection, session: RpcSession) {
    this.peer = peer;
    this.connection = connection;
    this.session = session;
    this.closed = connection.closed;
  }

  get isClosed(): boolean {
    return this.connection.isClosed;
  }

  get requestsInFlight(): { out: number; in: number } {
    return { out: this.session.requestsInFlightOut, in: this.session.requestsInFlightIn };
  }

  request(method: string, body?: unknown, options?: RequestOptions): Promise<unknown> {
    return this.session.request(method, body, options);
  }

  /** Closes gracefully: outstanding requests fail with `reason`, queued bytes are flushed. */
  close(reason: NetError): void {
    this.session.close(reason);
    this.connection.close(reason);
  }
}

/**
 * Verifies the peer on a socket whose TLS handshake has completed, exchanges greetings and
 * resolves with the connection; or logs why the peer is refused, destroys the socket and
 * rejects with a PeerRefusedError.
 */
export function handshake(options: HandshakeOptions): Promise<PeerConnection> {
  const { socket, logger } = options;
  const logFields: LogFields = { remote: `${socket.remoteAddress}:${socket.remotePort}`, direction: options.direction };
  const verification = verifyPeer(socket, options);
  if (!verification.ok) {
    logger.warn({ ...logFields, reason: verification.reason, detail: verification.detail }, 'refused peer');
    socket.destroy();
    return Promise.reject(new PeerRefusedError(verification.reason, verification.detail));
  }
  logFields.nodeId = verification.nodeId;
  return new Promise((resolve, reject) => new GreetingExchange(options, verification.nodeId, logFields, resolve, reject));
}

/** The state of one connection from a verified certificate to an exchanged greeting, and after. */
class GreetingExchange {
  private readonly connection: FramedConnection;
  private readonly timer: ReturnType<typeof setTimeout>;
  private session: RpcSession | undefined;

  constructor(
    private readonly options: HandshakeOptions,
    private readonly nodeId: string,
    private readonly logFields: LogFields,
    private readonly resolve: (connection: PeerConnection) => void,
    private readonly reject: (error: PeerRefusedError) => void,
  ) {
    const limits = options.limits;
    this.timer = setTimeout(() => this.refuse('PEER_HANDSHAKE_TIMEOUT', `no greeting within ${limits.handshakeTimeoutMs} ms`), limits.handshakeTimeoutMs);
    this.connection = new FramedConnection({
      socket: options.socket,
      frameBytesMax: limits.frameBytesMax,
      sendBufferBytesMax: limits.sendBufferBytesMax,
      closeGraceMs: limits.closeGraceMs,
      logger: options.logger,
      logFields,
      onEnvelope: (envelope) => this.receive(envelope),
      onClose: (reason) => this.closed(reason),
    });
    this.connection.send({ type: 'hello', nodeId: options.ownNodeId, listenPort: options.listenPort });
  }

  private receive(envelope: Envelope): void {
    if (this.session !== undefined) {
      if (envelope.type === 'hello') return this.violation(new ProtocolError('the peer greeted a second time'));
      return this.session.receive(envelope);
    }
    if (envelope.type !== 'hello') return this.refuse('PEER_GREETING_INVALID', `the peer sent a "${envelope.type}" frame before its greeting`);
    if (envelope.nodeId !== this.nodeId) {
      return this.refuse('PEER_GREETING_INVALID', `the peer greeted as ${envelope.nodeId.slice(0, 64)} but its certificate proves ${this.nodeId}`);
    }
    clearTimeout(this.timer);
    const socket = this.options.socket;
    const peer: RpcPeer = {
      nodeId: this.nodeId,
      host: socket.remoteAddress ?? '',
      port: socket.remotePort ?? 0,
      listenPort: envelope.listenPort,
      direction: this.options.direction,
    };
    this.session = new RpcSession({
      peer,
      send: (outgoing) => this.connection.send(outgoing),
      handlerFor: this.options.handlerFor,
      onViolation: (error) => this.violation(error),
      logger: this.options.logger,
      requestsInFlightMax: this.options.limits.requestsInFlightPerPeerMax,
      requestTimeoutMsDefault: this.options.limits.requestTimeoutMsDefault,
    });
    this.options.logger.info({ ...this.logFields, listenPort: envelope.listenPort }, 'peer connected');
    this.resolve(new PeerConnection(peer, this.connection, this.session));
  }

  private refuse(reason: PeerRefusalReason, detail: string): void {
    this.options.logger.warn({ ...this.logFields, reason, detail }, 'refused peer');
    clearTimeout(this.timer);
    const error = new PeerRefusedError(reason, detail);
    this.connection.abort(error);
    this.reject(error);
  }

  private violation(error: ProtocolError): void {
    this.options.logger.warn({ ...this.logFields, code: error.code, detail: error.message }, 'closing connection: the peer broke the protocol');
    this.connection.abort(error);
  }

  private closed(reason: NetError): void {
    clearTimeout(this.timer);
    if (this.session !== undefined) {
      this.session.close(reason);
      this.options.logger.info({ ...this.logFields, code: reason.code, detail: reason.message }, 'peer disconnected');
      return;
    }
    // Closed before the greeting: we refused (and rejected already), the peer's first frame
    // was garbage (and the connection logged it), or the peer hung up on us.
    if (reason instanceof PeerRefusedError) return this.reject(reason);
    if (reason instanceof FrameError) {
      return this.reject(new PeerRefusedError('PEER_GREETING_INVALID', `the peer's first frame broke the protocol: ${reason.message}`));
    }
    this.reject(
      new PeerRefusedError(
        'PEER_CLOSED_DURING_HANDSHAKE',
        `the peer closed the connection before greeting (${reason.message}); it may not trust this node's certificate`,
      ),
    );
  }
}
