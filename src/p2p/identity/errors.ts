/**
 * Errors of the identity module. Each class carries a stable `code` that callers and the
 * CLI match on; the message says what is wrong and what to do about it.
 */

export type IdentityErrorCode =
  | 'NODE_ID_INVALID'
  | 'CONTACT_INVALID'
  | 'IDENTITY_MISSING'
  | 'IDENTITY_EXISTS'
  | 'IDENTITY_CORRUPT'
  | 'IDENTITY_PERMISSIONS'
  | 'IDENTITY_EXPIRED'
  | 'CLUSTER_MISSING'
  | 'CLUSTER_EXISTS'
  | 'CLUSTER_CORRUPT';

export abstract class IdentityError extends Error {
  abstract readonly code: IdentityErrorCode;
}

/** A node ID that is not 40 hexadecimal characters (160 bits). */
export class NodeIdInvalidError extends IdentityError {
  override name = 'NodeIdInvalidError';
  readonly code = 'NODE_ID_INVALID';
}

/** A contact string that is not host:port#nodeid. */
export class ContactInvalidError extends IdentityError {
  override name = 'ContactInvalidError';
  readonly code = 'CONTACT_INVALID';
}

/** A peer's key, certificate or CA copy is not in its data directory. */
export class IdentityMissingError extends IdentityError {
  override name = 'IdentityMissingError';
  readonly code = 'IDENTITY_MISSING';
}

/** Refusing to overwrite a peer's existing certificate without being told to. */
export class IdentityExistsError extends IdentityError {
  override name = 'IdentityExistsError';
  readonly code = 'IDENTITY_EXISTS';
}

/** Identity files that do not parse or do not belong together. */
export class IdentityCorruptError extends IdentityError {
  override name = 'IdentityCorruptError';
  readonly code = 'IDENTITY_CORRUPT';
}

/** A private key file that other users of the machine could read. */
export class IdentityPermissionsError extends IdentityError {
  override name = 'IdentityPermissionsError';
  readonly code = 'IDENTITY_PERMISSIONS';
}

/** A peer certificate outside its validity period. */
export class IdentityExpiredError extends IdentityError {
  override name = 'IdentityExpiredError';
  readonly code = 'IDENTITY_EXPIRED';
}

/** No cluster CA in the given directory. */
export class ClusterMissingError extends IdentityError {
  override name = 'ClusterMissingError';
  readonly code = 'CLUSTER_MISSING';
}

/** Refusing to overwrite an existing cluster CA without being told to. */
export class ClusterExistsError extends IdentityError {
  override name = 'ClusterExistsError';
  readonly code = 'CLUSTER_EXISTS';
}

/** Cluster CA files that do not parse or do not belong together. */
export class ClusterCorruptError extends IdentityError {
  override name = 'ClusterCorruptError';
  readonly code = 'CLUSTER_CORRUPT';
}
