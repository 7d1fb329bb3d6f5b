/**
 * The health log of a peer without the storage role (a gateway-only or compute-only peer): its
 * HealthStore reads and writes through a storage peer over the transport, so that every peer's
 * failure detector, services and (on gateways) request outcomes are counted, not only those of
 * storage peers.
 *
 * - server (storage peers): RPCs `health.store.read { key, fresh }` and `health.store.write {
 *   key, value, previous, exclusive }` on the peer's own health store. A caller may read any of
 *   the health log (its reports read every peer's) and write only its own keys (`health/<its
 *   node id>/...`, the node ID its certificate proves) and the shared `health/peers`;
 * - client: tries the storage peers it was given (`--storage-peers`) and those that announce
 *   themselves in the DHT (the conversations' provider key), the one that answered last first.
 *
 * The writer (health-log-writer.ts) reads before it writes and writes with what it read, so a
 * write retried on another storage peer is as safe as one on the first.
 */
import { decodeVector, encodeVector, type VersionVector } from '../../replication/versions/index.js';
import { RpcHandlerError, type RpcContext, type Transport } from '../../net/index.js';
import type { Contact } from '../../p2p/kademlia/index.js';
import type { DhtShell } from '../../p2p/dht/index.js';
import { storageProviderKey } from '../../service/swarm/conversation-rpc.js';
import { healthPeersKey } from './health-log.js';
import type { HealthStore, StoredValue } from './health-store.js';

export const healthStoreReadMethod = 'health.store.read';
export const healthStoreWriteMethod = 'health.store.write';
/** How long one attempt on one storage peer may take. */
export const remoteHealthAttemptMs = 3_000;
/** A health value (one segment of events) is at most this long. */
export const remoteHealthValueBytesMax = 256 * 1024;
/** How often the storage peers are looked up again in the DHT, at most. */
const storagePeersLookupMs = 5_000;

type WireVersion = { kind: 'raft'; value: string | null } | { kind: 'replica'; context: string | null };

function toWire(stored: StoredValue): { values: string[]; version: WireVersion } {
  const { version } = stored;
  return { values: stored.values, version: version.kind === 'raft' ? version : { kind: 'replica', context: version.context === undefined ? null : encodeVector(version.context) } };
}

function fromWire(value: unknown): StoredValue {
  const body = value as { values?: unknown; version?: { kind?: unknown; value?: unknown; context?: unknown } };
  if (!Array.isArray(body?.values) || !body.values.every((item) => typeof item === 'string') || typeof body.version !== 'object' || body.version === null) {
    throw new RpcHandlerError('HEALTH_STORE_INVALID', 'a stored health value must be { values: string[], version }');
  }
  const { version } = body;
  if (version.kind === 'raft' && (version.value === null || typeof version.value === 'string')) return { values: body.values, version: { kind: 'raft', value: version.value } };
  if (version.kind === 'replica' && (version.context === null || typeof version.context === 'string')) {
    if (version.context === null) return { values: body.values, version: { kind: 'replica', context: undefined } };
    const decoded = decodeVector(version.context);
    if ('problem' in decoded && typeof decoded.problem === 'string') throw new RpcHandlerError('HEALTH_STORE_INVALID', `the version's context is not a version vector: ${decoded.problem}`);
    return { values: body.values, version: { kind: 'replica', context: decoded as VersionVector } };
  }
  throw new RpcHandlerError('HEALTH_STORE_INVALID', 'a stored health value\'s version must be { kind: "raft", value } or { kind: "replica", context }');
}

/** Only the health log: any of it to read (reports read every peer's), only the caller's own keys and the shared list of peers to write. */
function checkKey(key: unknown, caller: string, writing: boolean): string {
  if (typeof key !== 'string' || key.length > 256 || !key.startsWith('health/')) throw new RpcHandlerError('HEALTH_STORE_FORBIDDEN', 'only health/... keys are served to peers without storage');
  if (writing && key !== healthPeersKey && !key.startsWith(`health/${caller}/`)) {
    throw new RpcHandlerError('HEALTH_STORE_FORBIDDEN', `a peer may write only its own health keys (health/${caller}/...) and ${healthPeersKey}`);
  }
  return key;
}

/** Serves a storage peer's health store to the peers that have none. */
export function serveHealthStore(transport: Pick<Transport, 'handle'>, store: HealthStore): void {
  transport.handle(healthStoreReadMethod, async (body: unknown, context: RpcContext) => {
    const { key, fresh } = body as { key?: unknown; fresh?: unknown };
    return toWire(await store.read(checkKey(key, context.peer.nodeId, false), fresh === true));
  });
  transport.handle(healthStoreWriteMethod, async (body: unknown, context: RpcContext) => {
    const { key, value, previous, exclusive } = body as { key?: unknown; value?: unknown; previous?: unknown; exclusive?: unknown };
    if (typeof value !== 'string' || value.length > remoteHealthValueBytesMax) throw new RpcHandlerError('HEALTH_STORE_INVALID', `the value must be text of at most ${remoteHealthValueBytesMax} characters`);
    const written = await store.write(checkKey(key, context.peer.nodeId, true), value, fromWire(previous), exclusive === true);
    return { written: written === undefined ? null : toWire(written) };
  });
}

export interface RemoteHealthStoreParts {
  transport: Pick<Transport, 'request'>;
  dht?: Pick<DhtShell, 'findProviders'>;
  /** Storage peers to use at once (a gateway-only peer's --storage-peers). */
  contacts?: readonly Contact[];
  mode: HealthStore['mode'];
}

/** A peer without storage: its health store, through whichever storage peer answers. */
export class RemoteHealthStore implements HealthStore {
  readonly mode: HealthStore['mode'];
  private readonly known = new Map<string, Contact>();
  private lastAnswered: string | undefined;
  private lookedUpAtMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly parts: RemoteHealthStoreParts) {
    this.mode = parts.mode;
    for (const contact of parts.contacts ?? []) this.known.set(contact.nodeId, contact);
  }

  async read(key: string, fresh: boolean): Promise<StoredValue> {
    return fromWire(await this.call(healthStoreReadMethod, { key, fresh }));
  }

  async write(key: string, value: string, previous: StoredValue, exclusive: boolean): Promise<StoredValue | undefined> {
    const answer = (await this.call(healthStoreWriteMethod, { key, value, previous: toWire(previous), exclusive })) as { written?: unknown };
    return answer.written === null || answer.written === undefined ? undefined : fromWire(answer.written);
  }

  private async call(method: string, body: unknown): Promise<unknown> {
    await this.lookUp(this.known.size === 0);
    const order = [...this.known.values()].sort((left, right) => (left.nodeId === this.lastAnswered ? -1 : right.nodeId === this.lastAnswered ? 1 : 0));
    let lastError: unknown = new Error('no storage peer is known yet (none given, none announced in the DHT)');
    for (const contact of order) {
      try {
        const answer = await this.parts.transport.request(contact, method, body, { timeoutMs: remoteHealthAttemptMs });
        this.lastAnswered = contact.nodeId;
        return answer;
      } catch (error) {
        // A refusal about the request itself would be the same on every storage peer.
        if ((error as { remoteCode?: unknown }).remoteCode === 'HEALTH_STORE_FORBIDDEN' || (error as { remoteCode?: unknown }).remoteCode === 'HEALTH_STORE_INVALID') throw error;
        lastError = error;
      }
    }
    void this.lookUp(true);
    // The recorder keeps its events and tries again at its next flush.
    throw Object.assign(new Error(`no storage peer took the health log: ${(lastError as Error).message}`), { code: 'KV_UNAVAILABLE' });
  }

  private async lookUp(force: boolean): Promise<void> {
    const dht = this.parts.dht;
    if (dht === undefined || (!force && this.known.size > 0) || Date.now() - this.lookedUpAtMs < storagePeersLookupMs) return;
    this.lookedUpAtMs = Date.now();
    try {
      const result = await dht.findProviders(storageProviderKey());
      for (const contact of result.providers) this.known.set(contact.nodeId, contact);
    } catch {
      // No DHT answer now: the given contacts, if any, are still tried, and the lookup is repeated later.
    }
  }
}
