/**
 * RPC over one connection: requests with ids, deadlines, cancellation and a limit on
 * requests in flight, in both directions at once (either peer may ask the other).
 *
 * - Ids count up from 1 on each side. A request whose id does not rise, a response to an
 *   id never sent, or a cancel for an id never received breaks the protocol and closes
 *   the connection. A response to a request that already timed out or was cancelled is
 *   simply late, and is dropped.
 * - Deadlines hold on both sides: the caller stops waiting after `timeoutMs`, and the
 *   receiver aborts the handler's signal and drops its answer once the same time has
 *   passed since the request arrived. When the caller gives up (deadline or cancel) it
 *   sends a cancel frame, which frees the request's slot on the receiver before any later
 *   request can arrive.
 * - A caller may have at most `requestsInFlightMax` requests outstanding; one more is
 *   refused at once with RpcInFlightLimitError. A receiver answers a peer that exceeds the
 *   same limit with an RPC_OVERLOADED error response.
 * - A request for a method nobody registered gets an RPC_UNKNOWN_METHOD error response:
 *   the frame itself was well-formed, so the connection stays open.
 */
import { errorCodeLengthMax, errorMessageLengthMax, methodNameLengthMax, requestIdMax, requestTimeoutMsMax } from './constants.js';
import { isMethodName, isRequestTimeoutMs, type Envelope } from './envelope.js';
import {
  ConnectionClosedError,
  FrameError,
  NetError,
  ProtocolError,
  remoteErrorCodes,
  RpcCancelledError,
  RpcDeadlineError,
  RpcHandlerError,
  RpcInFlightLimitError,
  RpcRemoteError,
  RpcRequestInvalidError,
} from './errors.js';
import type { Logger } from './logger.js';

/** The peer at the other end of a connection, as proved by its certificate and greeting. */
export interface RpcPeer {
  nodeId: string;
  /** The remote socket address. */
  host: string;
  port: number;
  /** The port the peer accepts connections on, 0 if none. */
  listenPort: number;
  direction: 'inbound' | 'outbound';
}

export interface RpcContext {
  peer: RpcPeer;
  method: string;
  /** Aborted when the caller cancels, the deadline passes or the connection closes. */
  signal: AbortSignal;
  timeoutMs: number;
}

/** Answers one method. Its return value (or promise) is the response body; throw RpcHandlerError for an error response with your own code. */
export type RpcHandler = (body: unknown, context: RpcContext) => unknown;

export interface RequestOptions {
  /** How long to wait for the answer; also how long the peer may work on it. */
  timeoutMs?: number;
  /** Cancels the request: the promise rejects with RpcCancelledError and the peer is told. */
  signal?: AbortSignal;
}

export interface RpcSessionOptions {
  peer: RpcPeer;
  send: (envelope: Envelope) => FrameError | ConnectionClosedError | undefined;
  handlerFor: (method: string) => RpcHandler | undefined;
  /** Called when the peer breaks the protocol; the owner closes the connection. */
  onViolation: (error: ProtocolError) => void;
  logger: Logger;
  requestsInFlightMax: number;
  requestTimeoutMsDefault: number;
}

interface OutgoingRequest {
  method: string;
  resolve: (body: unknown) => void;
  reject: (error: NetError) => void;
  timer: ReturnType<typeof setTimeout>;
  detach: () => void;
}

interface IncomingRequest {
  controller: AbortController;
  timer: ReturnType<typeof setTimeout>;
}

type Settlement = { body: unknown } | { error: NetError };

export class RpcSession {
  private readonly options: RpcSessionOptions;
  private readonly outgoing = new Map<number, OutgoingRequest>();
  private readonly incoming = new Map<number, IncomingRequest>();
  private lastRequestIdSent = 0;
  private lastRequestIdReceived = 0;
  private closeReason: NetError | undefined;

  constructor(options: RpcSessionOptions) {
    this.options = options;
  }

  get requestsInFlightOut(): number {
    return this.outgoing.size;
  }

  get requestsInFlightIn(): number {
    return this.incoming.size;
  }

  request(method: string, body: unknown, options: RequestOptions = {}): Promise<unknown> {
    const nodeId = this.options.peer.nodeId;
    if (this.closeReason !== undefined) {
      return Promise.reject(new ConnectionClosedError(`connection to ${nodeId} is closed: ${this.closeReason.message}`));
    }
    if (!isMethodName(method)) {
      return Promise.reject(new RpcRequestInvalidError(`method name ${JSON.stringify(method)} must be 1 to ${methodNameLengthMax} characters of A-Z a-z 0-9 _ . : / -`));
    }
    const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMsDefault;
    if (!isRequestTimeoutMs(timeoutMs)) {
      return Promise.reject(new RpcRequestInvalidError(`timeoutMs must be a whole number of milliseconds from 1 to ${requestTimeoutMsMax}, got ${timeoutMs}`));
    }
    if (options.signal?.aborted === true) return Promise.reject(new RpcCancelledError(`${method} was cancelled before it was sent`));
    if (this.outgoing.size >= this.options.requestsInFlightMax) {
      return Promise.reject(
        new RpcInFlightLimitError(`${nodeId} already has ${this.outgoing.size} requests in flight, the most allowed; wait for one to finish`),
      );
    }
    if (this.lastRequestIdSent >= requestIdMax) {
      return Promise.reject(new ConnectionClosedError(`connection to ${nodeId} has used up its request ids; reconnect`));
    }
    const id = ++this.lastRequestIdSent;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.giveUp(id, new RpcDeadlineError(`${method} to ${nodeId} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const signal = options.signal;
      const onAbort = () => this.giveUp(id, new RpcCancelledError(`${method} to ${nodeId} was cancelled`));
      signal?.addEventListener('abort', onAbort, { once: true });
      const detach = () => signal?.removeEventListener('abort', onAbort);
      this.outgoing.set(id, { method, resolve, reject, timer, detach });
      const envelope: Envelope = body === undefined ? { type: 'req', id, method, timeoutMs } : { type: 'req', id, method, timeoutMs, body };
      const sendError = this.options.send(envelope);
      if (sendError !== undefined) this.settle(id, { error: sendError });
    });
  }

  /** Takes one envelope from the peer (anything but a greeting). */
  receive(envelope: Exclude<Envelope, { type: 'hello' }>): void {
    if (this.closeReason !== undefined) return;
    switch (envelope.type) {
      case 'req':
        return this.receiveRequest(envelope.id, envelope.method, envelope.timeoutMs, envelope.body);
      case 'res':
      case 'err':
        if (envelope.id > this.lastRequestIdSent) {
          return this.options.onViolation(new ProtocolError(`the peer answered request ${envelope.id}, which was never sent`));
        }
        // A missing entry is a late answer to a request that timed out or was cancelled.
        if (!this.outgoing.has(envelope.id)) return;
        if (envelope.type === 'res') return this.settle(envelope.id, { body: envelope.body });
        return this.settle(envelope.id, {
          error: new RpcRemoteError(envelope.code, envelope.message, this.outgoing.get(envelope.id)!.method),
        });
      case 'cancel': {
        if (envelope.id > this.lastRequestIdReceived) {
          return this.options.onViolation(new ProtocolError(`the peer cancelled request ${envelope.id}, which it never sent`));
        }
        const entry = this.incoming.get(envelope.id);
        if (entry === undefined) return;
        this.dropIncoming(envelope.id, entry, new RpcCancelledError('the caller cancelled the request'));
        return;
      }
    }
  }

  /** Fails every outstanding request and aborts every running handler. */
  close(reason: NetError): void {
    if (this.closeReason !== undefined) return;
    this.closeReason = reason;
    for (const [id, entry] of this.outgoing) {
      this.settle(id, { error: new ConnectionClosedError(`connection to ${this.options.peer.nodeId} closed while ${entry.method} was in flight: ${reason.message}`) });
    }
    for (const [id, entry] of this.incoming) this.dropIncoming(id, entry, reason);
  }

  private giveUp(id: number, error: NetError): void {
    if (!this.outgoing.has(id)) return;
    this.settle(id, { error });
    // Telling the peer frees its slot for this request before our next request reaches it.
    this.options.send({ type: 'cancel', id });
  }

  private settle(id: number, settlement: Settlement): void {
    const entry = this.outgoing.get(id);
    if (entry === undefined) return;
    this.outgoing.delete(id);
    clearTimeout(entry.timer);
    entry.detach();
    if ('error' in settlement) entry.reject(settlement.error);
    else entry.resolve(settlement.body);
  }

  private receiveRequest(id: number, method: string, timeoutMs: number, body: unknown): void {
    if (id <= this.lastRequestIdReceived) {
      return this.options.onViolation(new ProtocolError(`request id ${id} does not rise above the previous ${this.lastRequestIdReceived}`));
    }
    this.lastRequestIdReceived = id;
    if (this.incoming.size >= this.options.requestsInFlightMax) {
      this.sendError(id, remoteErrorCodes.overloaded, `this peer already runs ${this.incoming.size} of your requests, the most allowed`);
      return;
    }
    const handler = this.options.handlerFor(method);
    if (handler === undefined) {
      this.sendError(id, remoteErrorCodes.unknownMethod, `no method named ${method}`);
      return;
    }
    const controller = new AbortController();
    const timer = setTimeout(() => {
      // The caller has stopped waiting: abort the work and drop whatever it produces.
      const entry = this.incoming.get(id);
      if (entry !== undefined) this.dropIncoming(id, entry, new RpcDeadlineError(`${method} ran past its ${timeoutMs} ms deadline`));
    }, timeoutMs);
    this.incoming.set(id, { controller, timer });
    const context: RpcContext = { peer: this.options.peer, method, signal: controller.signal, timeoutMs };
    Promise.resolve()
      .then(() => handler(body, context))
      .then(
        (result) => this.respond(id, method, result),
        (error: unknown) => this.respondWithFailure(id, method, error),
      );
  }

  private dropIncoming(id: number, entry: IncomingRequest, reason: NetError): void {
    this.incoming.delete(id);
    clearTimeout(entry.timer);
    entry.controller.abort(reason);
  }

  /** Removes a finished request; false if it was cancelled, timed out or its connection closed. */
  private finishIncoming(id: number): boolean {
    const entry = this.incoming.get(id);
    if (entry === undefined) return false;
    this.incoming.delete(id);
    clearTimeout(entry.timer);
    return true;
  }

  private respond(id: number, method: string, result: unknown): void {
    if (!this.finishIncoming(id)) return;
    const sendError = this.options.send(result === undefined ? { type: 'res', id } : { type: 'res', id, body: result });
    if (!(sendError instanceof FrameError)) return;
    this.options.logger.warn({ nodeId: this.options.peer.nodeId, method, code: sendError.code, detail: sendError.message }, 'cannot send a response');
    const code = sendError.code === 'FRAME_OVERSIZED' ? remoteErrorCodes.responseTooLarge : remoteErrorCodes.responseUnencodable;
    this.sendError(id, code, sendError.message);
  }

  private respondWithFailure(id: number, method: string, error: unknown): void {
    if (!this.finishIncoming(id)) return;
    if (error instanceof RpcHandlerError && error.remoteCode.length > 0 && error.remoteCode.length <= errorCodeLengthMax) {
      this.sendError(id, error.remoteCode, error.message);
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    this.options.logger.warn({ nodeId: this.options.peer.nodeId, method, detail: message }, 'handler failed');
    this.sendError(id, remoteErrorCodes.handlerFailed, message);
  }

  private sendError(id: number, code: string, message: string): void {
    this.options.send({ type: 'err', id, code, message: message.slice(0, errorMessageLengthMax) });
  }
}
