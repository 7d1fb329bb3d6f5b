/**
 * One peer up close: its Kademlia routing table bucket by bucket, its replication status
 * (whatever the replication mode reports: Raft's role, term and indexes and each follower's
 * match; a multi-leader peer's lag; a leaderless peer's hints and repairs) and, on a
 * gateway, the compute peers it may send work to with their circuit breakers.
 */
import type { ApiClient } from './api.js';
import { element, replaceChildren } from './dom.js';
import { shortId } from './format.js';
import type { RoutingContact, RoutingTable, SwarmPeer } from './types.js';

/** Nested objects deeper than this are shown as JSON, to keep the panel readable. */
const nestingMax = 3;
/** Node IDs are shown short, in full on hover, so that tables of peers fit the panel. */
const nodeIdPattern = /^[0-9a-f]{40}$/;

export class PeerPanel {
  private readonly title = element('h3', {}, 'Click a peer for its routing table and replication status.');
  private readonly routing = element('div', { 'data-testid': 'routing-table' });
  private readonly replication = element('div', { 'data-testid': 'replication-status' });
  private readonly breakers = element('div', { 'data-testid': 'compute-peers' });
  /** Counts the peers opened, so that a slow answer about an earlier one is not shown over a later one. */
  private generation = 0;

  constructor(
    private readonly container: HTMLElement,
    private readonly api: ApiClient,
  ) {
    replaceChildren(container, this.title);
  }

  async show(peer: SwarmPeer): Promise<void> {
    const generation = ++this.generation;
    const close = element('button', { type: 'button', class: 'close', 'aria-label': 'close the peer panel' }, '×');
    close.addEventListener('click', () => {
      this.generation++;
      this.container.hidden = true;
    });
    this.container.hidden = false;
    this.title.textContent = `Peer ${shortId(peer.nodeId)} (${peer.state})`;
    replaceChildren(this.routing, 'Loading the routing table…');
    replaceChildren(this.replication, 'Loading the status…');
    replaceChildren(this.breakers);
    replaceChildren(this.container,
      close, this.title, element('p', { class: 'contact' }, peer.contact),
      element('h4', {}, 'Routing table'), this.routing,
      element('h4', {}, 'Replication'), this.replication,
      this.breakers,
    );
    const base = `/v1/admin/peers/${encodeURIComponent(peer.nodeId)}`;
    const [table, status] = await Promise.allSettled([this.api.getJson<RoutingTable>(`${base}/routing-table`), this.api.getJson<Record<string, unknown>>(`${base}/status`)]);
    if (generation !== this.generation) return;
    if (table.status === 'fulfilled') replaceChildren(this.routing, routingTable(table.value));
    else replaceChildren(this.routing, element('p', { class: 'error' }, `No routing table: ${messageOf(table.reason)}`));
    if (status.status === 'fulfilled') this.showStatus(status.value);
    else replaceChildren(this.replication, element('p', { class: 'error' }, `No status: ${messageOf(status.reason)}`));
  }

  private showStatus(status: Record<string, unknown>): void {
    const storage = objectAt(status, ['storage']);
    if (storage === undefined) replaceChildren(this.replication, element('p', {}, 'This peer stores nothing (it has no storage role).'));
    else replaceChildren(this.replication, element('p', {}, `mode: ${String(storage.mode ?? 'unknown')}`), valueView(storage.replication, 0));
    const computePeers = objectAt(status, ['serving', 'gateway'])?.computePeers;
    if (Array.isArray(computePeers)) {
      replaceChildren(this.breakers, element('h4', {}, 'Compute peers and their circuit breakers'), computePeers.length === 0 ? element('p', {}, 'none known yet') : valueView(computePeers, 0));
    }
    this.breakers.append(element('details', {}, element('summary', {}, 'the whole status'), element('pre', {}, JSON.stringify(status, null, 2))));
  }
}

function routingTable(table: RoutingTable): HTMLElement {
  const rows = table.buckets
    .filter((bucket) => bucket.contacts.length > 0)
    .map((bucket) => element('tr', {}, element('td', { class: 'number' }, bucket.index), element('td', {}, ...bucket.contacts.map((contact) => contactView(contact)))));
  return element('div', {},
    element('p', {}, `${table.size} contacts in ${table.buckets.filter((bucket) => bucket.contacts.length > 0).length} non-empty buckets (bucket i holds the peers whose IDs share exactly i leading bits with this peer's: the higher the bucket, the closer the peer)`),
    element('table', {}, element('thead', {}, element('tr', {}, element('th', {}, 'bucket'), element('th', {}, 'contacts'))), element('tbody', {}, ...rows)),
  );
}

function contactView(contact: RoutingContact): HTMLElement {
  const address = contact.contact?.split('#')[0] ?? (contact.host === undefined ? '' : `${contact.host}:${contact.port ?? '?'}`);
  const seen = contact.lastSeenMs === undefined ? '' : `; last seen ${new Date(contact.lastSeenMs).toLocaleTimeString()}`;
  return element('div', { title: `${contact.nodeId}${seen}` }, shortId(contact.nodeId), ' ', element('span', { class: 'muted' }, address));
}

/** Any JSON value as a readable tree: scalars as text, objects as definition lists, arrays of objects as tables. */
export function valueView(value: unknown, depth: number): Node {
  if (value === null || value === undefined) return document.createTextNode('–');
  if (typeof value === 'string' && nodeIdPattern.test(value)) return element('span', { title: value }, shortId(value));
  if (typeof value !== 'object') return document.createTextNode(String(value));
  if (depth >= nestingMax) return element('code', {}, JSON.stringify(value));
  if (Array.isArray(value)) {
    if (value.length === 0) return document.createTextNode('none');
    if (value.every((item) => typeof item === 'object' && item !== null && !Array.isArray(item))) return tableOf(value as Record<string, unknown>[], depth);
    return document.createTextNode(value.map((item) => (typeof item === 'object' ? JSON.stringify(item) : String(item))).join(', '));
  }
  const list = element('dl', { class: 'status' });
  for (const [name, field] of Object.entries(value)) list.append(element('dt', {}, name), element('dd', {}, valueView(field, depth + 1)));
  return list;
}

function tableOf(rows: Record<string, unknown>[], depth: number): HTMLTableElement {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  return element('table', {},
    element('thead', {}, element('tr', {}, ...columns.map((column) => element('th', {}, column)))),
    element('tbody', {}, ...rows.map((row) => element('tr', {}, ...columns.map((column) => element('td', {}, valueView(row[column], depth + 1)))))),
  );
}

function objectAt(value: Record<string, unknown>, path: string[]): Record<string, unknown> | undefined {
  let current: unknown = value;
  for (const name of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[name];
  }
  return typeof current === 'object' && current !== null ? (current as Record<string, unknown>) : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
