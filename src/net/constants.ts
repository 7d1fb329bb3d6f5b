/**
 * Every limit of the network layer, named with its unit. Transports take these as
 * defaults and may be configured lower (`TransportLimits`); the protocol constants at the
 * top are part of the wire format and the same on every peer.
 */

/** The wire format version carried in every frame's fifth byte. */
export const frameVersion = 1;
/** A frame starts with its length as an unsigned 32-bit big-endian integer... */
export const frameLengthBytes = 4;
/** ...followed by the version byte, then the msgpack body. */
export const frameHeaderBytes = frameLengthBytes + 1;
/** The largest frame, header included, that any peer sends or accepts. */
export const frameBytesMax = 16 * 1024 * 1024;
/** The smallest frame: a header and a one-byte msgpack value. */
export const frameBytesMin = frameHeaderBytes + 1;

/** Longest RPC method name, in UTF-16 code units (method names are ASCII). */
export const methodNameLengthMax = 128;
/** Longest error code in an error response. */
export const errorCodeLengthMax = 64;
/** Longest error message in an error response; longer messages are cut. */
export const errorMessageLengthMax = 1024;
/** Request ids count up from 1 on each side of a connection and stay exact integers. */
export const requestIdMax = Number.MAX_SAFE_INTEGER;
/**
 * The longest time a request may ask the receiver to keep working on it. The timeout
 * travels as milliseconds remaining rather than as a wall-clock deadline, because the
 * two peers' clocks need not agree.
 */
export const requestTimeoutMsMax = 10 * 60 * 1000;

/** The timeout of a request whose caller names none. */
export const requestTimeoutMsDefault = 5_000;
/**
 * Requests one side may have outstanding on one connection, in each direction. Replication
 * sends every protocol message as a request, and a storage peer under 64 clients forwards
 * their writes and reads to the leader on top: 64 was hit there and dropped messages.
 */
export const requestsInFlightPerPeerMax = 1024;
/** Time from TCP connect to an authenticated, greeted connection. */
export const handshakeTimeoutMs = 5_000;
/** Time to open the TCP connection, complete TLS and exchange greetings when dialing. */
export const connectTimeoutMs = 5_000;
/** Connections, in and out, a transport keeps at once. */
export const connectionsMax = 1_024;
/**
 * Bytes queued for sending on one connection before the peer counts as not reading and the
 * connection is closed. Four maximum frames leave room for a burst of large responses.
 */
export const sendBufferBytesMax = 4 * frameBytesMax;
/** How long a closing connection may take to flush before it is destroyed. */
export const closeGraceMs = 1_000;
