/**
 * Signed values with real keys: a peer signs with its ECDSA P-256 identity key, and a value
 * is believed only if its signature verifies AND its public key belongs to a peer whose
 * certificate, issued by the cluster CA, this node has checked itself (in a TLS handshake
 * or a multicast announcement). A key that hashes to no such member is refused even with a
 * valid signature: anyone can make a key pair, only the CA makes members.
 *
 * The core calls `verify` synchronously and cannot wait for a certificate to be fetched, so
 * a value from a member this node has never met is refused until it meets that member.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { nodeIdFromPublicKey } from '../identity/index.js';
import type { VerifySignature } from '../kademlia/index.js';

/** Node IDs whose CA-issued certificates this node has verified, with the public keys they prove. */
export class CertifiedMembers {
  private readonly members = new Set<string>();

  constructor(private readonly membersMax: number) {}

  /** Records a member; called only after its certificate chained to the cluster CA and its key hashed to its ID. */
  add(nodeId: string): void {
    if (this.members.has(nodeId)) return;
    // Forget the oldest first: a member we met long ago may have to be met again before its values are believed.
    if (this.members.size >= this.membersMax) this.members.delete(this.members.values().next().value!);
    this.members.add(nodeId);
  }

  has(nodeId: string): boolean {
    return this.members.has(nodeId);
  }

  get size(): number {
    return this.members.size;
  }
}

/** Signs Kademlia value bytes with a PEM private key (ECDSA P-256, SHA-256, DER signature). */
export class ValueSigner {
  private readonly privateKey: KeyObject;
  /** The SPKI DER of the signer's public key, as carried in a SignedValue. */
  readonly publicKeyDer: Uint8Array;

  constructor(privateKeyPem: string) {
    this.privateKey = createPrivateKey(privateKeyPem);
    this.publicKeyDer = new Uint8Array(createPublicKey(this.privateKey).export({ type: 'spki', format: 'der' }));
  }

  sign(bytes: Uint8Array): Uint8Array {
    return new Uint8Array(sign('sha256', bytes, this.privateKey));
  }
}

/** The verifier the Kademlia core is built with: a valid ECDSA signature by a certified member. */
export function certifiedVerifier(members: CertifiedMembers): VerifySignature {
  return (publicKeyDer, bytes, signature) => {
    if (!members.has(nodeIdFromPublicKey(publicKeyDer))) return false;
    const key = createPublicKey({ key: Buffer.from(publicKeyDer), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'ec') return false;
    return verify('sha256', bytes, key, signature);
  };
}
