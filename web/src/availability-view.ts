/**
 * The nines panel: the cluster's, each service's and each peer's availability (MTBF,
 * MTTR, nines), what clients saw against the SLO and the error budget left, the leader
 * changes, and the table of nines. On a local swarm each peer has kill and restart
 * buttons, so that a failure can be caused here and watched in the graph and the numbers.
 */
import type { ApiClient } from './api.js';
import { element, replaceChildren } from './dom.js';
import { duration, nines, percent, shortId } from './format.js';
import type { AvailabilityFigures, AvailabilityReport, ClientFigures, NinesRow, SwarmView } from './types.js';

/** A restart answers once the peer is up again, which takes a model load: seconds on a busy machine. */
const chaosTimeoutMs = 90_000;
/** The latest leader changes listed; older ones are counted. */
const leaderChangesShown = 8;

export class AvailabilityPanel {
  private readonly cards = element('div', { class: 'cards' });
  private readonly services = element('div', { 'data-testid': 'services-table' });
  private readonly peers = element('div', { 'data-testid': 'availability-peers' });
  private readonly leaders = element('div', { 'data-testid': 'leader-changes' });
  private readonly table = element('div', { 'data-testid': 'nines-table' });
  private readonly chaosStatus = element('p', { class: 'muted', 'data-testid': 'chaos-status' });
  private readonly error = element('p', { class: 'error', hidden: true });
  private report: AvailabilityReport | null = null;
  private swarm: SwarmView | null = null;

  constructor(
    container: HTMLElement,
    private readonly api: ApiClient,
    private readonly refreshSoon: () => void,
  ) {
    replaceChildren(container,
      this.error, this.cards,
      element('h3', {}, 'Services'), this.services,
      element('h3', {}, 'Peers'), this.peers, this.chaosStatus,
      element('h3', {}, 'Leader changes'), this.leaders,
      element('details', {}, element('summary', {}, 'The table of nines: the downtime each availability allows'), this.table),
    );
  }

  renderReport(report: AvailabilityReport): void {
    this.report = report;
    this.error.hidden = true;
    const client = report.client ?? report.clientObserved;
    replaceChildren(this.cards, figuresCard('Cluster', 'cluster', report.cluster), clientCard(client), sloCard(report.slo));
    replaceChildren(this.services, servicesTable(report.services ?? []));
    replaceChildren(this.leaders, leaderChanges(report));
    replaceChildren(this.table, ninesTable(report.ninesTable ?? []));
    this.renderPeers();
  }

  renderSwarm(swarm: SwarmView): void {
    this.swarm = swarm;
    this.renderPeers();
  }

  showError(message: string): void {
    this.error.textContent = `The availability report failed: ${message}`;
    this.error.hidden = false;
  }

  /** The peers the swarm knows, with the report's figures for each and, on a local swarm, the chaos buttons. */
  private renderPeers(): void {
    const figures = new Map((this.report?.peers ?? []).map((peer) => [peer.peer ?? '', peer]));
    const ids = [...new Set([...(this.swarm?.peers ?? []).map((peer) => peer.nodeId), ...figures.keys()])].filter((id) => id !== '').sort();
    const local = this.swarm?.localSwarm === true;
    const head = element('tr', {}, ...['peer', 'state', 'availability', 'nines', 'MTBF', 'MTTR', 'failures', local ? 'chaos' : ''].filter(Boolean).map((name) => element('th', {}, name)));
    const rows = ids.map((id) => {
      const state = this.swarm?.peers.find((peer) => peer.nodeId === id)?.state ?? 'unknown';
      const peer = figures.get(id);
      return element('tr', { 'data-testid': 'availability-peer-row', 'data-node-id': id },
        element('td', { title: id }, shortId(id)),
        element('td', {}, element('span', { class: `state ${state}` }, state)),
        ...figureCells(peer),
        element('td', { class: 'number' }, peer?.failures ?? '–'),
        local && element('td', {}, this.chaosButton('kill', id, state === 'down'), ' ', this.chaosButton('restart', id, state === 'up')),
      );
    });
    replaceChildren(this.peers, element('table', {}, element('thead', {}, head), element('tbody', {}, ...rows)));
  }

  private chaosButton(action: 'kill' | 'restart', nodeId: string, disabled: boolean): HTMLButtonElement {
    const button = element('button', { type: 'button', class: action === 'kill' ? 'danger' : 'secondary', 'data-testid': `${action}-button`, 'data-node-id': nodeId, disabled }, action);
    button.addEventListener('click', async () => {
      button.disabled = true;
      this.chaosStatus.textContent = `${action === 'kill' ? 'Killing' : 'Restarting'} peer ${shortId(nodeId)}…`;
      try {
        await this.api.postJson(`/v1/admin/local-swarm/peers/${encodeURIComponent(nodeId)}/${action}`, {}, chaosTimeoutMs);
        this.chaosStatus.textContent = action === 'kill' ? `Peer ${shortId(nodeId)} was killed (SIGKILL): watch the graph and the nines.` : `Peer ${shortId(nodeId)} was restarted.`;
      } catch (error) {
        this.chaosStatus.textContent = `Could not ${action} peer ${shortId(nodeId)}: ${error instanceof Error ? error.message : String(error)}`;
      }
      this.refreshSoon();
    });
    return button;
  }
}

function figureCells(figures: AvailabilityFigures | undefined): HTMLTableCellElement[] {
  return [
    element('td', { class: 'number', 'data-field': 'availability' }, percent(figures?.availability)),
    element('td', { class: 'number', 'data-field': 'nines' }, ninesText(figures)),
    element('td', { class: 'number' }, duration(figures?.mtbfMs)),
    element('td', { class: 'number' }, duration(figures?.mttrMs)),
  ];
}

/** With no downtime seen the nines are infinite, which the report gives as null. */
function ninesText(figures: { availability?: number | null; nines?: number | null } | undefined): string {
  if (figures?.availability === 1) return 'no downtime';
  return nines(figures?.nines);
}

function figuresCard(title: string, testId: string, figures: AvailabilityFigures | undefined): HTMLElement {
  return element('div', { class: 'card', 'data-testid': `${testId}-card` },
    element('h4', {}, title),
    element('p', { class: 'big', 'data-testid': `${testId}-availability` }, percent(figures?.availability)),
    element('p', { 'data-testid': `${testId}-nines` }, `nines: ${ninesText(figures)}`),
    element('p', { class: 'muted' }, `MTBF ${duration(figures?.mtbfMs)} · MTTR ${duration(figures?.mttrMs)} · ${plural(figures?.failures ?? 0, 'failure')}`),
  );
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function clientCard(client: ClientFigures | undefined): HTMLElement {
  return element('div', { class: 'card', 'data-testid': 'client-card' },
    element('h4', {}, 'What clients saw'),
    element('p', { class: 'big', 'data-testid': 'client-availability' }, percent(client?.availability)),
    element('p', {}, `nines: ${ninesText(client)}`),
    element('p', { class: 'muted' }, `${client?.requests ?? 0} requests: ${client?.ok ?? 0} ok, ${client?.failed ?? 0} failed, ${client?.rejected ?? 0} rejected`),
  );
}

function sloCard(slo: AvailabilityReport['slo']): HTMLElement {
  const remaining = slo?.errorBudgetRemaining;
  const width = remaining === null || remaining === undefined ? 0 : Math.max(0, Math.min(1, remaining)) * 100;
  return element('div', { class: 'card', 'data-testid': 'slo-card' },
    element('h4', {}, `SLO ${slo?.target === undefined ? '–' : percent(slo.target)}`),
    element('p', { class: 'big', 'data-testid': 'error-budget' }, remaining === null || remaining === undefined ? '–' : `${(remaining * 100).toFixed(1)}%`),
    element('div', { class: `budget ${remaining !== null && remaining !== undefined && remaining < 0 ? 'overspent' : ''}` }, element('span', { style: `width: ${width.toFixed(1)}%` })),
    element('p', { class: 'muted' }, `of the error budget left · ${slo?.failures ?? 0} failures of ${slo?.allowedFailures === undefined ? '–' : slo.allowedFailures.toFixed(1)} allowed${slo?.met === false ? ' · SLO missed' : ''}`),
  );
}

function servicesTable(services: NonNullable<AvailabilityReport['services']>): HTMLElement {
  if (services.length === 0) return element('p', { class: 'muted' }, 'No service has reported yet.');
  return element('table', {},
    element('thead', {}, element('tr', {}, ...['service', 'peers', 'availability', 'nines', 'MTBF', 'MTTR', 'failures'].map((name) => element('th', {}, name)))),
    element('tbody', {}, ...services.map((service) => element('tr', {},
      element('td', {}, service.service ?? '?'),
      element('td', { class: 'number' }, service.peers ?? '–'),
      ...figureCells(service),
      element('td', { class: 'number' }, service.failures ?? '–'),
    ))),
  );
}

function leaderChanges(report: AvailabilityReport): HTMLElement {
  const changes = report.leaderChanges ?? [];
  if (changes.length === 0) return element('p', { class: 'muted' }, 'No leader change in the window.');
  const latest = changes.slice(-leaderChangesShown).reverse();
  return element('ul', { class: 'leader-changes' },
    ...latest.map((change) => element('li', {}, `${change.atMs === undefined ? '' : new Date(change.atMs).toLocaleTimeString()} term ${change.term ?? '?'}: ${change.leader === null || change.leader === undefined ? 'no leader' : shortId(change.leader)}`)),
    changes.length > leaderChangesShown && element('li', { class: 'muted' }, `and ${changes.length - leaderChangesShown} earlier`),
  );
}

function ninesTable(rows: readonly NinesRow[]): HTMLElement {
  return element('table', {},
    element('thead', {}, element('tr', {}, ...['availability', 'nines', 'down per day', 'per month', 'per year'].map((name) => element('th', {}, name)))),
    element('tbody', {}, ...rows.map((row) => element('tr', {},
      element('td', { class: 'number' }, row.percent === undefined ? percent(row.availability) : `${row.percent}%`),
      element('td', { class: 'number' }, row.nines ?? '–'),
      element('td', { class: 'number' }, duration(row.downtimePerDayMs)),
      element('td', { class: 'number' }, duration(row.downtimePerMonthMs)),
      element('td', { class: 'number' }, duration(row.downtimePerYearMs)),
    ))),
  );
}
