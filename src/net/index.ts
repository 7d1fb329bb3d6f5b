/**
 * The network layer: the only code in nines that opens sockets.
 *
 * - frame.ts       [uint32 length][uint8 version][msgpack body], with a hard size limit
 * - envelope.ts    the five envelope types a frame body may hold
 * - connection.ts  envelopes over one socket; a broken frame closes that connection only
 * - rpc.ts         requests with ids, deadlines, cancellation and an in-flight limit
 * - peer-verify.ts the checks a peer must pass before any frame is exchanged
 * - peer-connection.ts the handshake and one authenticated connection
 * - transport.ts   TCP + TLS 1.3, mutual authentication, one reused connection per peer
 *
 * Every limit is in constants.ts; every error, with its stable code, in errors.ts.
 */
export * from './constants.js';
export * from './errors.js';
export { encodeFrame, FrameDecoder, type FrameDecodeResult, type FrameDecoderOptions } from './frame.js';
export { parseEnvelope, isMethodName, type Envelope } from './envelope.js';
export type { Logger, LogFields } from './logger.js';
export { silentLogger } from './logger.js';
export type { PeerAuthentication, PeerAuthenticator } from './peer-verify.js';
export { RpcSession, type RequestOptions, type RpcContext, type RpcHandler, type RpcPeer, type RpcSessionOptions } from './rpc.js';
export { PeerConnection } from './peer-connection.js';
export { Transport, transportLimitsDefault, type PeerAddress, type TransportIdentity, type TransportLimits, type TransportOptions } from './transport.js';
