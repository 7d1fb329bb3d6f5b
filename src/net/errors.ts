/**
 * Errors of the network layer, each with a stable `code`. Protocol errors (a peer sent
 * something it must not) close that one connection; the others are returned to callers.
 */

export abstract class NetError extends Error {
  abstract readonly code: string;
}

/** Why a frame could not be decoded or encoded. */
export type FrameErrorCode =
  | 'FRAME_OVERSIZED'
  | 'FRAME_VERSION_UNSUPPORTED'
  | 'FRAME_UNDECODABLE'
  | 'FRAME_ENVELOPE_INVALID'
  | 'FRAME_UNENCODABLE';

/** A frame that breaks the wire format. Received, it closes the connection it came on. */
export class FrameError extends NetError {
  override name = 'FrameError';
  constructor(
    readonly code: FrameErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A well-formed frame used against the protocol (a reused request id, a second greeting). */
export class ProtocolError extends NetError {
  override name = 'ProtocolError';
  readonly code = 'PROTOCOL_VIOLATION';
}

/** Why a connection to or from a peer was refused. */
export type PeerRefusalReason =
  | 'PEER_NO_CERTIFICATE'
  | 'PEER_UNTRUSTED_CERTIFICATE'
  | 'PEER_NODE_ID_MISSING'
  | 'PEER_NODE_ID_MISMATCH'
  | 'PEER_PIN_MISMATCH'
  | 'PEER_IS_SELF'
  | 'PEER_GREETING_INVALID'
  | 'PEER_CLOSED_DURING_HANDSHAKE'
  | 'PEER_HANDSHAKE_TIMEOUT'
  | 'PEER_TLS_FAILED'
  | 'PEER_CONNECTIONS_FULL';

/** A connection refused during the handshake, by this side or (as far as it can tell) by the peer. */
export class PeerRefusedError extends NetError {
  override name = 'PeerRefusedError';
  readonly code = 'PEER_REFUSED';
  constructor(
    readonly reason: PeerRefusalReason,
    message: string,
  ) {
    super(message);
  }
}

/** The transport could not listen on the address asked for (in use, not permitted). */
export class ListenFailedError extends NetError {
  override name = 'ListenFailedError';
  readonly code = 'LISTEN_FAILED';
}

/** The TCP connection could not be opened (refused, unreachable, timed out). */
export class ConnectFailedError extends NetError {
  override name = 'ConnectFailedError';
  readonly code = 'CONNECT_FAILED';
}

/** The connection closed while a request was outstanding, or before it could be sent. */
export class ConnectionClosedError extends NetError {
  override name = 'ConnectionClosedError';
  readonly code = 'CONNECTION_CLOSED';
}

/** The transport has been closed and opens no more connections. */
export class TransportClosedError extends NetError {
  override name = 'TransportClosedError';
  readonly code = 'TRANSPORT_CLOSED';
}

/** A request by node ID to a peer with no open connection and no known address. */
export class PeerNotConnectedError extends NetError {
  override name = 'PeerNotConnectedError';
  readonly code = 'PEER_NOT_CONNECTED';
}

/** A request whose deadline passed before its response arrived. */
export class RpcDeadlineError extends NetError {
  override name = 'RpcDeadlineError';
  readonly code = 'RPC_DEADLINE_EXCEEDED';
}

/** A request cancelled through its AbortSignal. */
export class RpcCancelledError extends NetError {
  override name = 'RpcCancelledError';
  readonly code = 'RPC_CANCELLED';
}

/** A request refused locally because the peer already has the most requests in flight allowed. */
export class RpcInFlightLimitError extends NetError {
  override name = 'RpcInFlightLimitError';
  readonly code = 'RPC_IN_FLIGHT_LIMIT';
}

/** A request that cannot be sent as asked: a bad method name or timeout. */
export class RpcRequestInvalidError extends NetError {
  override name = 'RpcRequestInvalidError';
  readonly code = 'RPC_REQUEST_INVALID';
}

/**
 * Error codes a receiver sends back in an error response. Handlers may send their own
 * codes by throwing `RpcHandlerError`.
 */
export const remoteErrorCodes = {
  unknownMethod: 'RPC_UNKNOWN_METHOD',
  overloaded: 'RPC_OVERLOADED',
  handlerFailed: 'RPC_HANDLER_FAILED',
  responseTooLarge: 'RPC_RESPONSE_TOO_LARGE',
  responseUnencodable: 'RPC_RESPONSE_UNENCODABLE',
} as const;

/** The peer answered a request with an error response. */
export class RpcRemoteError extends NetError {
  override name = 'RpcRemoteError';
  readonly code = 'RPC_REMOTE_ERROR';
  constructor(
    readonly remoteCode: string,
    readonly remoteMessage: string,
    readonly method: string,
  ) {
    super(`${method} failed on the peer: ${remoteCode}: ${remoteMessage}`);
  }
}

/** Thrown by a handler to answer with a specific error code and message. */
export class RpcHandlerError extends NetError {
  override name = 'RpcHandlerError';
  readonly code = 'RPC_HANDLER_ERROR';
  constructor(
    readonly remoteCode: string,
    message: string,
  ) {
    super(message);
  }
}
