/**
 * Bootstrap (pure P2P): a list of trusted contacts, each pinned to its node ID. Every contact
 * is tried at once; one that answers (its TLS handshake proves the pinned ID and it answers
 * the self-lookup we start through it) joins us to the DHT, and those that do not are retried
 * with exponential backoff until they answer or `attemptsMax` attempts have been made.
 */
import type { Rng } from '../../core/rng.js';
import type { Logger } from '../../net/index.js';
import { formatContact } from '../identity/index.js';
import type { Contact } from '../kademlia/index.js';
import { backoffDelayMs, bootstrapBackoffDefault, checkBackoffLimits, type BackoffLimits } from './backoff.js';
import { bootstrapContactsMax } from './constants.js';
import type { DiscoveryDht, PeerDialer } from './discovery-dht.js';
import { DiscoveryConfigError } from './errors.js';

export type BootstrapContactState = 'trying' | 'waiting' | 'answered' | 'given-up';

export interface BootstrapStatus {
  contact: string;
  state: BootstrapContactState;
  attempts: number;
  lastError: string | null;
}

export interface BootstrapOptions {
  contacts: readonly Contact[];
  dht: DiscoveryDht;
  dialer: PeerDialer;
  rng: Rng;
  logger: Logger;
  limits?: Partial<BackoffLimits>;
}

interface ContactProgress {
  contact: Contact;
  state: BootstrapContactState;
  attempts: number;
  lastError: string | null;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export class Bootstrap {
  private readonly options: BootstrapOptions;
  private readonly limits: BackoffLimits;
  private readonly progress: ContactProgress[];
  private stopped = false;
  private joinedValue = false;

  constructor(options: BootstrapOptions) {
    if (options.contacts.length > bootstrapContactsMax) {
      throw new DiscoveryConfigError(`at most ${bootstrapContactsMax} bootstrap contacts may be given, got ${options.contacts.length}; a few trusted ones are enough`);
    }
    this.options = options;
    this.limits = checkBackoffLimits({ ...bootstrapBackoffDefault, ...options.limits });
    this.progress = options.contacts.map((contact) => ({ contact, state: 'waiting', attempts: 0, lastError: null, timer: undefined }));
  }

  /** Whether some bootstrap contact has answered and the node has joined through it. */
  get joined(): boolean {
    return this.joinedValue;
  }

  start(): void {
    for (const entry of this.progress) void this.attempt(entry);
  }

  stop(): void {
    this.stopped = true;
    for (const entry of this.progress) clearTimeout(entry.timer);
  }

  status(): BootstrapStatus[] {
    return this.progress.map((entry) => ({ contact: formatContact(entry.contact), state: entry.state, attempts: entry.attempts, lastError: entry.lastError }));
  }

  private async attempt(entry: ContactProgress): Promise<void> {
    if (this.stopped) return;
    entry.state = 'trying';
    entry.attempts++;
    const { logger, dialer, dht } = this.options;
    const label = formatContact(entry.contact);
    try {
      // Dialing first proves the contact is who it is pinned as; only then is the DHT asked to use it.
      await dialer.connect({ host: entry.contact.host, port: entry.contact.port, nodeId: entry.contact.nodeId });
      const result = await dht.join([entry.contact]);
      if (!result.ok) throw new Error(`the self-lookup through it got no answer (${result.error ?? 'no peer answered'})`);
      if (this.stopped) return;
      entry.state = 'answered';
      entry.lastError = null;
      logger.info({ contact: label, attempts: entry.attempts, closest: result.closest.length, firstJoin: !this.joinedValue }, 'bootstrap contact answered');
      this.joinedValue = true;
    } catch (error) {
      if (this.stopped) return;
      entry.lastError = (error as Error).message;
      const delayMs = backoffDelayMs(entry.attempts, this.limits, this.options.rng);
      if (delayMs === undefined) {
        entry.state = 'given-up';
        logger.warn({ contact: label, attempts: entry.attempts, detail: entry.lastError }, 'gave up on bootstrap contact');
        return;
      }
      entry.state = 'waiting';
      logger.info({ contact: label, attempts: entry.attempts, retryInMs: delayMs, detail: entry.lastError }, 'bootstrap contact did not answer; will retry');
      entry.timer = setTimeout(() => void this.attempt(entry), delayMs);
    }
  }
}
