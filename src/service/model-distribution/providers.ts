/**
 * Finding the peers that seed a model, and agreeing with them on what the file is: every
 * provider is asked for its manifest, each answer is checked, and the manifest the most
 * providers serve wins (ties go to the lower manifest id, so that every fetcher picks the
 * same one). Providers that serve another manifest (an older or newer file under the same
 * name, or a liar) are not used.
 */
import type { Logger, Transport } from '../../net/index.js';
import type { DhtShell } from '../../p2p/dht/index.js';
import type { Contact } from '../../p2p/kademlia/index.js';
import { manifestRequestTimeoutMsDefault, manifestRequestsInFlightMax, modelManifestMethod, providersRetryMsMax, providersRetryMsMin, providersWanted } from './constants.js';
import { ModelProvidersNotFoundError } from './errors.js';
import { checkManifest, manifestId, modelFileKey, type Manifest } from './manifest.js';

export interface ProviderSearchParts {
  transport: Transport;
  dht: Pick<DhtShell, 'findProviders'>;
  logger: Logger;
  name: string;
  signal?: AbortSignal;
}

/** The providers the DHT knows for the model, this peer left out (its own old record may still be out there). */
export async function findProviders(parts: ProviderSearchParts): Promise<Contact[]> {
  const result = await parts.dht.findProviders(modelFileKey(parts.name), providersWanted);
  return result.providers.filter((contact) => contact.nodeId !== parts.transport.nodeId);
}

/** The manifest `contact` serves for the model, checked; undefined (and logged) when it has none or sends a bad one. */
export async function manifestOf(parts: ProviderSearchParts, contact: Contact): Promise<Manifest | undefined> {
  try {
    const answer = await parts.transport.request({ host: contact.host, port: contact.port, nodeId: contact.nodeId }, modelManifestMethod, { name: parts.name }, { timeoutMs: manifestRequestTimeoutMsDefault });
    const manifest = checkManifest((answer as { manifest?: unknown } | null)?.manifest, `peer ${contact.nodeId}`);
    if (manifest.name !== parts.name) throw new Error(`it serves the manifest of ${manifest.name}, not ${parts.name}`);
    return manifest;
  } catch (error) {
    parts.logger.warn({ model: parts.name, provider: contact.nodeId, error: (error as Error).message }, 'a provider gave no usable manifest');
    return undefined;
  }
}

/** The manifest most of `contacts` serve, with the providers that serve it; undefined when none answered. */
export async function majorityManifest(parts: ProviderSearchParts, contacts: readonly Contact[]): Promise<{ manifest: Manifest; providers: Contact[] } | undefined> {
  const byId = new Map<string, { manifest: Manifest; providers: Contact[] }>();
  for (let first = 0; first < contacts.length; first += manifestRequestsInFlightMax) {
    const batch = contacts.slice(first, first + manifestRequestsInFlightMax);
    const manifests = await Promise.all(batch.map((contact) => manifestOf(parts, contact)));
    batch.forEach((contact, index) => {
      const manifest = manifests[index];
      if (manifest === undefined) return;
      const id = manifestId(manifest);
      const entry = byId.get(id) ?? { manifest, providers: [] };
      entry.providers.push(contact);
      byId.set(id, entry);
    });
  }
  const ranked = [...byId.entries()].sort(([idA, a], [idB, b]) => b.providers.length - a.providers.length || (idA < idB ? -1 : 1));
  if (ranked.length > 1) parts.logger.warn({ model: parts.name, manifests: ranked.map(([id, entry]) => ({ manifestId: id, providers: entry.providers.length })) }, 'providers disagree on the model file; using the one most of them serve');
  return ranked[0]?.[1];
}

/**
 * Looks for providers until some serve a usable manifest, retrying with backoff while none
 * are known (a peer that has just started may not have joined the DHT yet), for at most `waitMs`.
 */
export async function agreeOnManifest(parts: ProviderSearchParts & { waitMs: number }): Promise<{ manifest: Manifest; providers: Contact[] }> {
  const startedMs = Date.now();
  let retryMs = providersRetryMsMin;
  let seen = 0;
  for (;;) {
    if (parts.signal?.aborted === true) throw new ModelProvidersNotFoundError(`the search for providers of ${parts.name} was stopped`);
    const contacts = await findProviders(parts).catch((error: Error) => {
      parts.logger.warn({ model: parts.name, error: error.message }, 'the provider lookup failed');
      return [];
    });
    seen = Math.max(seen, contacts.length);
    const agreed = contacts.length === 0 ? undefined : await majorityManifest(parts, contacts);
    if (agreed !== undefined) return agreed;
    const waitedMs = Date.now() - startedMs;
    if (waitedMs >= parts.waitMs) {
      throw new ModelProvidersNotFoundError(
        `no peer provided the model file ${parts.name} within ${parts.waitMs} ms (${seen === 0 ? 'the DHT knows no provider' : `${seen} providers found, none served a usable manifest`}). ` +
          'Start a peer that holds it (nines node --compute --model <file.gguf> seeds it) and check that this peer reaches the swarm (--bootstrap, --tracker or --multicast).',
      );
    }
    parts.logger.info({ model: parts.name, waitedMs, retryMs }, 'no provider of the model file yet; looking again');
    await new Promise((resolve) => setTimeout(resolve, Math.min(retryMs, parts.waitMs - waitedMs)));
    retryMs = Math.min(retryMs * 2, providersRetryMsMax);
  }
}
