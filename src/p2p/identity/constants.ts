/** Limits and fixed choices of the identity module, with their units in their names. */

/** A node ID is the first 20 bytes (160 bits) of SHA-256 over the peer's public key. */
export const nodeIdBytes = 20;
/** Written as lowercase hexadecimal: two characters per byte. */
export const nodeIdHexLength = nodeIdBytes * 2;

/**
 * Peers and the CA use ECDSA on P-256 with SHA-256 signatures. Ed25519 also worked in a
 * trial on Node 20 (TLS 1.3 and @peculiar/x509), but P-256 is what every TLS stack and
 * WebCrypto implementation supports without flags, so it is the safer default.
 */
export const keyCurve = 'P-256';

/** How long a new cluster CA certificate is valid. */
export const caValidityDaysDefault = 3650;
/** How long a new peer certificate is valid; re-issue with `nines cluster issue --force`. */
export const peerValidityDaysDefault = 825;
/** The longest validity either kind of certificate may be given. */
export const validityDaysMax = 36500;
/**
 * Certificates start this long before the moment they are made, so that a peer whose
 * clock runs a little behind the CA's still accepts them.
 */
export const clockSkewAllowanceMs = 60 * 60 * 1000;

/** Bytes of randomness in a certificate serial number (RFC 5280 allows up to 20). */
export const serialNumberBytes = 16;

/** The longest cluster name, in characters; it becomes the CA's common name. */
export const clusterNameLengthMax = 64;

/** The SAN URI scheme that names a node ID inside a peer certificate: nines://<node id>. */
export const nodeIdUriScheme = 'nines://';

/** Files and their modes. Private keys, and everything in a peer's identity folder, are 0600. */
export const fileModePrivate = 0o600;
export const directoryModePrivate = 0o700;
export const identityDirectoryName = 'identity';
export const identityKeyFileName = 'key.pem';
export const identityCertificateFileName = 'cert.pem';
export const identityCaFileName = 'ca.pem';
export const clusterKeyFileName = 'ca-key.pem';
export const clusterCertificateFileName = 'ca.pem';
