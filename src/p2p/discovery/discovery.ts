/**
 * The discovery modes a node runs, in any combination: trusted bootstrap contacts (pure
 * P2P), trackers (hybrid P2P) and multicast on the LAN. Each feeds the same DHT, and they
 * start in that order: bootstrap contacts are dialed first, trackers asked next, and the
 * multicast group joined last.
 */
import type { Rng } from '../../core/rng.js';
import type { Logger, Transport } from '../../net/index.js';
import type { Contact } from '../kademlia/index.js';
import type { Announcer } from './announcement.js';
import type { BackoffLimits } from './backoff.js';
import { Bootstrap, type BootstrapStatus } from './bootstrap.js';
import type { DiscoveryDht } from './discovery-dht.js';
import { MulticastDiscovery, type MulticastStatus } from './multicast.js';
import { TrackerClient, type TrackerStatus } from './tracker.js';

export interface MulticastConfig {
  group: string;
  port: number;
  interfaceAddress?: string;
  intervalMs?: number;
}

export interface DiscoveryConfig {
  bootstrap?: readonly Contact[];
  bootstrapLimits?: Partial<BackoffLimits>;
  trackers?: readonly Contact[];
  trackerIntervalMs?: number;
  multicast?: MulticastConfig;
}

export interface DiscoveryComponents {
  transport: Transport;
  dht: DiscoveryDht;
  rng: Rng;
  logger: Logger;
  /** This node's contact, certificate and key, for signed multicast announcements. */
  announcer: Announcer;
  caPem: string;
}

export interface DiscoveryStatus {
  bootstrap: BootstrapStatus[] | null;
  trackers: TrackerStatus[] | null;
  multicast: MulticastStatus | null;
}

export class Discovery {
  private readonly bootstrap: Bootstrap | undefined;
  private readonly trackers: TrackerClient | undefined;
  private readonly multicast: MulticastDiscovery | undefined;

  /** Checks the configuration of every enabled mode; nothing starts until `start`. */
  constructor(config: DiscoveryConfig, components: DiscoveryComponents) {
    const { transport, dht, rng, logger } = components;
    if (config.bootstrap !== undefined && config.bootstrap.length > 0) {
      this.bootstrap = new Bootstrap({ contacts: config.bootstrap, dht, dialer: transport, rng, logger, limits: config.bootstrapLimits });
    }
    if (config.trackers !== undefined && config.trackers.length > 0) {
      this.trackers = new TrackerClient({ trackers: config.trackers, transport, dht, logger, intervalMs: config.trackerIntervalMs });
    }
    if (config.multicast !== undefined) {
      this.multicast = new MulticastDiscovery({ ...config.multicast, announcer: components.announcer, caPem: components.caPem, dht, logger });
    }
  }

  get modes(): string[] {
    return [this.bootstrap && 'bootstrap', this.trackers && 'tracker', this.multicast && 'multicast'].filter((mode): mode is string => typeof mode === 'string');
  }

  async start(): Promise<void> {
    this.bootstrap?.start();
    this.trackers?.start();
    await this.multicast?.start();
  }

  stop(): void {
    this.bootstrap?.stop();
    this.trackers?.stop();
    this.multicast?.stop();
  }

  status(): DiscoveryStatus {
    return {
      bootstrap: this.bootstrap?.status() ?? null,
      trackers: this.trackers?.status() ?? null,
      multicast: this.multicast?.status() ?? null,
    };
  }
}
