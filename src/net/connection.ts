/**
 * A framed connection: envelopes in and out over one socket. It owns the frame decoder
 * and closes the socket on the first frame that breaks the format, logging why; the
 * owner hears about every close exactly once, through `onClose`.
 */
import type { Duplex } from 'node:stream';
import type { Envelope } from './envelope.js';
import { parseEnvelope } from './envelope.js';
import { ConnectionClosedError, FrameError, NetError } from './errors.js';
import { encodeFrame, FrameDecoder } from './frame.js';
import type { LogFields, Logger } from './logger.js';

export interface FramedConnectionOptions {
  socket: Duplex;
  frameBytesMax: number;
  sendBufferBytesMax: number;
  closeGraceMs: number;
  logger: Logger;
  /** Fields that name this connection in every log line (remote address, node ID). */
  logFields: LogFields;
  onEnvelope: (envelope: Envelope) => void;
  onClose: (reason: NetError) => void;
}

export class FramedConnection {
  private readonly options: FramedConnectionOptions;
  private readonly decoder: FrameDecoder<Envelope>;
  private closeReason: NetError | undefined;
  private socketError: Error | undefined;
  private graceTimer: ReturnType<typeof setTimeout> | undefined;
  readonly closed: Promise<NetError>;
  private resolveClosed!: (reason: NetError) => void;

  constructor(options: FramedConnectionOptions) {
    this.options = options;
    this.decoder = new FrameDecoder({ frameBytesMax: options.frameBytesMax, parse: parseEnvelope });
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    const socket = options.socket;
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => (this.socketError ??= error));
    socket.on('close', () => this.finish(this.closeReason ?? this.remoteCloseReason()));
  }

  get isClosed(): boolean {
    return this.closeReason !== undefined;
  }

  /**
   * Sends one envelope. Returns the FrameError if it cannot be encoded or is too large
   * (nothing is sent then), or a ConnectionClosedError if the connection is gone.
   */
  send(envelope: Envelope): FrameError | ConnectionClosedError | undefined {
    if (this.closeReason !== undefined) return new ConnectionClosedError(`connection already closed: ${this.closeReason.message}`);
    const frame = encodeFrame(envelope, this.options.frameBytesMax);
    if (frame instanceof FrameError) return frame;
    if (this.options.socket.writableLength + frame.length > this.options.sendBufferBytesMax) {
      const reason = new ConnectionClosedError(
        `the peer is not reading: more than ${this.options.sendBufferBytesMax} bytes are waiting to be sent to it`,
      );
      this.options.logger.warn({ ...this.options.logFields, code: reason.code }, `closing connection: ${reason.message}`);
      this.abort(reason);
      return reason;
    }
    this.options.socket.write(frame);
    return undefined;
  }

  /** Ends the connection after what was sent has been flushed, or after the grace period. */
  close(reason: NetError): void {
    if (this.closeReason !== undefined) return;
    this.closeReason = reason;
    this.options.socket.end();
    this.graceTimer = setTimeout(() => this.options.socket.destroy(), this.options.closeGraceMs);
    this.graceTimer.unref();
  }

  /** Drops the connection at once. */
  abort(reason: NetError): void {
    if (this.closeReason === undefined) this.closeReason = reason;
    this.options.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    if (this.closeReason !== undefined) return;
    const { frames, error } = this.decoder.push(chunk);
    for (const envelope of frames) {
      // A handler may have closed the connection while an earlier frame of this chunk ran.
      if (this.closeReason !== undefined) return;
      this.options.onEnvelope(envelope);
    }
    if (error !== undefined && this.closeReason === undefined) {
      this.options.logger.warn(
        { ...this.options.logFields, code: error.code, detail: error.message },
        'closing connection: the peer sent a frame that breaks the protocol',
      );
      this.abort(error);
    }
  }

  private remoteCloseReason(): ConnectionClosedError {
    const detail = this.socketError === undefined ? 'closed by the peer' : this.socketError.message;
    return new ConnectionClosedError(`connection lost: ${detail}`);
  }

  private finish(reason: NetError): void {
    if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
    this.closeReason ??= reason;
    this.resolveClosed(reason);
    this.options.onClose(reason);
  }
}
