/**
 * Multicast discovery (LAN): every peer sends a signed announcement to a UDP multicast group
 * every few seconds and listens on the group for others. Announcements that pass
 * `verifyAnnouncement` are fed to the DHT as contacts; the rest are dropped, counted, and
 * logged with their reason (at most once per `dropLogIntervalMs` per reason, so a flood of
 * forgeries cannot flood the log).
 *
 * Every peer on a host binds the same port with SO_REUSEADDR, which on Linux delivers each
 * multicast datagram to all of them. On loopback the group is joined on, and sent from,
 * 127.0.0.1 with IP_MULTICAST_LOOP on; Linux delivers this even though `lo` lacks the
 * MULTICAST flag (checked on the machines nines is tested on). On a LAN, give the address of
 * the interface facing the LAN.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import * as dgram from 'node:dgram';
import { isIPv4 } from 'node:net';
import type { Logger } from '../../net/index.js';
import { formatContact } from '../identity/index.js';
import { CertificateCache, encodeAnnouncement, verifyAnnouncement, type AnnouncementDropReason, type Announcer } from './announcement.js';
import { dropLogIntervalMs, multicastAnnounceIntervalMsDefault, multicastCertificatesCachedMax, multicastTimeToLive } from './constants.js';
import type { DiscoveryDht } from './discovery-dht.js';
import { DiscoveryConfigError, MulticastUnavailableError } from './errors.js';

export interface MulticastOptions {
  group: string;
  port: number;
  /** The local IPv4 address to join the group on and send from: 127.0.0.1 for loopback. */
  interfaceAddress?: string;
  announcer: Announcer;
  caPem: string;
  dht: DiscoveryDht;
  logger: Logger;
  intervalMs?: number;
  nowMs?: () => number;
}

export interface MulticastStatus {
  group: string;
  port: number;
  interfaceAddress: string | null;
  sent: number;
  believed: number;
  dropped: Partial<Record<AnnouncementDropReason, number>>;
}

/** Whether `group` is an IPv4 multicast address (224.0.0.0/4). */
export function isMulticastGroup(group: string): boolean {
  if (!isIPv4(group)) return false;
  const first = Number(group.split('.')[0]);
  return first >= 224 && first <= 239;
}

export class MulticastDiscovery {
  private readonly options: MulticastOptions;
  private readonly intervalMs: number;
  private readonly nowMs: () => number;
  private readonly ca: X509Certificate;
  private readonly key: KeyObject;
  private readonly lastDropLoggedMs = new Map<AnnouncementDropReason, number>();
  private readonly certificates = new CertificateCache(multicastCertificatesCachedMax);
  private readonly counts: MulticastStatus;
  private socket: dgram.Socket | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: MulticastOptions) {
    if (!isMulticastGroup(options.group)) throw new DiscoveryConfigError(`${options.group} is not an IPv4 multicast group (224.0.0.0 to 239.255.255.255); the default is 239.255.90.9`);
    if (!(Number.isInteger(options.port) && options.port >= 1 && options.port <= 65_535)) throw new DiscoveryConfigError(`the multicast port must be from 1 to 65535, got ${options.port}`);
    if (options.interfaceAddress !== undefined && !isIPv4(options.interfaceAddress)) {
      throw new DiscoveryConfigError(`the multicast interface must be a local IPv4 address such as 127.0.0.1, got ${options.interfaceAddress}`);
    }
    this.options = options;
    this.intervalMs = options.intervalMs ?? multicastAnnounceIntervalMsDefault;
    if (!(Number.isInteger(this.intervalMs) && this.intervalMs >= 1)) throw new DiscoveryConfigError(`the multicast interval must be a positive number of milliseconds, got ${this.intervalMs}`);
    this.nowMs = options.nowMs ?? Date.now;
    this.ca = new X509Certificate(options.caPem);
    this.key = createPrivateKey(options.announcer.keyPem);
    this.counts = { group: options.group, port: options.port, interfaceAddress: options.interfaceAddress ?? null, sent: 0, believed: 0, dropped: {} };
  }

  /** Binds the port, joins the group, and starts announcing. */
  async start(): Promise<void> {
    const { group, port, interfaceAddress } = this.options;
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (error) => reject(new MulticastUnavailableError(`cannot bind UDP port ${port} for multicast: ${error.message}`)));
      socket.bind(port, () => resolve());
    });
    try {
      socket.addMembership(group, interfaceAddress);
      if (interfaceAddress !== undefined) socket.setMulticastInterface(interfaceAddress);
      socket.setMulticastLoopback(true);
      socket.setMulticastTTL(multicastTimeToLive);
    } catch (error) {
      socket.close();
      throw new MulticastUnavailableError(
        `cannot join multicast group ${group} on ${interfaceAddress ?? 'the default interface'}: ${(error as Error).message}. ` +
          'On a single machine use --multicast-interface 127.0.0.1; see the README section on discovery.',
      );
    }
    socket.on('error', (error) => this.options.logger.warn({ detail: error.message }, 'multicast socket error'));
    socket.on('message', (bytes, remote) => this.receive(bytes, `${remote.address}:${remote.port}`));
    this.options.logger.info({ group, port, interfaceAddress: interfaceAddress ?? null }, 'multicast discovery joined the group');
    this.announce();
    this.timer = setInterval(() => this.announce(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.socket?.close();
    this.socket = undefined;
  }

  status(): MulticastStatus {
    return { ...this.counts, dropped: { ...this.counts.dropped } };
  }

  private announce(): void {
    const socket = this.socket;
    if (socket === undefined) return;
    const bytes = encodeAnnouncement(this.options.announcer, this.nowMs(), this.key);
    socket.send(bytes, this.options.port, this.options.group, (error) => {
      if (error) this.options.logger.warn({ detail: error.message }, 'multicast announcement not sent');
      else this.counts.sent++;
    });
  }

  private receive(bytes: Buffer, source: string): void {
    const verdict = verifyAnnouncement(bytes, { ca: this.ca, selfNodeId: this.options.announcer.contact.nodeId, nowMs: this.nowMs(), certificates: this.certificates });
    if (!verdict.ok) {
      if (verdict.reason === 'ANNOUNCEMENT_FROM_SELF') return;
      this.counts.dropped[verdict.reason] = (this.counts.dropped[verdict.reason] ?? 0) + 1;
      const now = this.nowMs();
      const lastLogged = this.lastDropLoggedMs.get(verdict.reason);
      if (lastLogged === undefined || now - lastLogged >= dropLogIntervalMs) {
        this.lastDropLoggedMs.set(verdict.reason, now);
        this.options.logger.warn({ source, reason: verdict.reason, detail: verdict.detail, droppedSoFar: this.counts.dropped[verdict.reason] }, 'dropped multicast announcement');
      }
      return;
    }
    this.counts.believed++;
    this.options.dht.offerContacts([verdict.contact]).then(
      (result) => {
        if (result !== undefined) this.options.logger.debug({ contact: formatContact(verdict.contact), ok: result.ok }, 'offered a multicast contact to the DHT');
      },
      () => undefined,
    );
  }
}
