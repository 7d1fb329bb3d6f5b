/**
 * The swarm as one peer sees it, for the admin API and the dashboard: every peer this node
 * knows of (its routing table, its storage voters, its live connections) is asked over the
 * transport for a short summary — roles, API address, the leader it follows, the peers it
 * reaches — and a peer that does not answer within `swarmViewTimeoutMs` is shown as down.
 * Another peer's full status and routing table are fetched the same way, so the dashboard
 * can talk to one peer and still inspect them all.
 */
import type { Transport } from '../../net/index.js';
import type { Contact } from '../../p2p/kademlia/index.js';

export const swarmViewTimeoutMs = 1_000;
/** Peers one view asks at most: a local or small cluster fits; a bigger one is cut, and says so. */
export const swarmViewPeersMax = 64;

export const adminSummaryMethod = 'admin.summary';
export const adminStatusMethod = 'admin.status';
export const adminRoutingTableMethod = 'admin.routing-table';

export interface PeerSummary {
  nodeId: string;
  contact: string;
  /** Where its HTTP API listens, as a URL. */
  api: string | null;
  roles: string[];
  /** The storage leader it follows (single-leader), if any. */
  leader: string | null;
  mode: string | null;
  /** The node IDs it currently sees up. */
  reaches: string[];
}

export interface SwarmPeer extends PeerSummary {
  state: 'up' | 'down';
}

export interface SwarmViewParts {
  self: Contact;
  transport: Transport;
  /** Everyone this node knows of (the routing table, storage voters, live connections). */
  knownPeers: () => Contact[];
  summary: () => PeerSummary;
  status: () => unknown;
  routingTable: () => unknown;
}

class AdminPeerError extends Error {
  constructor(
    readonly code: 'ADMIN_PEER_UNKNOWN' | 'ADMIN_PEER_UNREACHABLE',
    message: string,
  ) {
    super(message);
  }
}

export class SwarmView {
  constructor(private readonly parts: SwarmViewParts) {
    parts.transport.handle(adminSummaryMethod, () => parts.summary());
    parts.transport.handle(adminStatusMethod, () => parts.status());
    parts.transport.handle(adminRoutingTableMethod, () => parts.routingTable());
  }

  async gather(): Promise<{ self: string; peers: SwarmPeer[]; leader: string | null; mode: string | null; truncated: boolean }> {
    const own = this.parts.summary();
    const others = this.others();
    const answers = await Promise.all(others.slice(0, swarmViewPeersMax).map(async (contact): Promise<SwarmPeer> => {
      try {
        const summary = summaryOf(await this.parts.transport.request(contact, adminSummaryMethod, {}, { timeoutMs: swarmViewTimeoutMs }));
        return { ...summary, state: 'up' };
      } catch {
        return { nodeId: contact.nodeId, contact: `${contact.host}:${contact.port}#${contact.nodeId}`, api: null, roles: [], leader: null, mode: null, reaches: [], state: 'down' };
      }
    }));
    const peers: SwarmPeer[] = [{ ...own, state: 'up' as const }, ...answers].sort((left, right) => (left.contact < right.contact ? -1 : 1));
    // The leader most live peers follow: one stale follower does not name a leader for everyone.
    const votes = new Map<string, number>();
    for (const peer of peers) if (peer.state === 'up' && peer.leader !== null) votes.set(peer.leader, (votes.get(peer.leader) ?? 0) + 1);
    const leader = [...votes.entries()].sort((left, right) => right[1] - left[1])[0]?.[0] ?? null;
    return { self: own.nodeId, peers, leader, mode: own.mode, truncated: others.length > swarmViewPeersMax };
  }

  peerStatus(nodeId: string): Promise<unknown> {
    return nodeId === this.parts.self.nodeId ? Promise.resolve(this.parts.status()) : this.ask(nodeId, adminStatusMethod);
  }

  peerRoutingTable(nodeId: string): Promise<unknown> {
    return nodeId === this.parts.self.nodeId ? Promise.resolve(this.parts.routingTable()) : this.ask(nodeId, adminRoutingTableMethod);
  }

  private others(): Contact[] {
    const byId = new Map<string, Contact>();
    for (const contact of this.parts.knownPeers()) if (contact.nodeId !== this.parts.self.nodeId) byId.set(contact.nodeId, contact);
    return [...byId.values()];
  }

  private async ask(nodeId: string, method: string): Promise<unknown> {
    const contact = this.others().find((candidate) => candidate.nodeId === nodeId);
    if (contact === undefined) throw new AdminPeerError('ADMIN_PEER_UNKNOWN', `this peer knows no peer ${nodeId}; GET /v1/admin/swarm lists the ones it knows`);
    try {
      return await this.parts.transport.request(contact, method, {}, { timeoutMs: swarmViewTimeoutMs });
    } catch (error) {
      throw new AdminPeerError('ADMIN_PEER_UNREACHABLE', `peer ${nodeId} did not answer: ${(error as Error).message}`);
    }
  }
}

/** A summary from another peer is network input: only well-formed fields are believed. */
function summaryOf(value: unknown): PeerSummary {
  const body = value as Partial<Record<keyof PeerSummary, unknown>>;
  const text = (field: unknown): string | null => (typeof field === 'string' && field.length <= 512 ? field : null);
  const strings = (field: unknown): string[] => (Array.isArray(field) ? field.filter((item): item is string => typeof item === 'string' && item.length <= 512).slice(0, swarmViewPeersMax * 4) : []);
  const nodeId = text(body.nodeId);
  const contact = text(body.contact);
  if (nodeId === null || contact === null) throw new Error('the peer answered without a node ID or contact');
  return { nodeId, contact, api: text(body.api), roles: strings(body.roles), leader: text(body.leader), mode: text(body.mode), reaches: strings(body.reaches) };
}
