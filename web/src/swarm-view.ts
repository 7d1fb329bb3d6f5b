/**
 * The swarm: every peer as a circle (its state by colour, the leader ringed, its roles in
 * letters), a line between two peers that see each other up (dashed when only one sees
 * the other), and a table of the same peers. Clicking a peer opens its panel.
 */
import { element, replaceChildren, svgElement } from './dom.js';
import { shortId } from './format.js';
import { circleLayout, edgesOf, type Point } from './graph-layout.js';
import { modeOf, type SwarmPeer, type SwarmView } from './types.js';

const graphWidth = 420;
const graphHeight = 320;
const nodeRadius = 30;
const graphMargin = 64;

export class SwarmPanel {
  private readonly summary = element('p', { class: 'summary', 'data-testid': 'swarm-summary' }, 'Asking the peers…');
  private readonly graph = svgElement('svg', { viewBox: `0 0 ${graphWidth} ${graphHeight}`, class: 'graph', 'data-testid': 'swarm-graph', role: 'img', 'aria-label': 'the swarm graph' });
  private readonly table = element('tbody');
  private selected: string | null = null;

  constructor(
    container: HTMLElement,
    private readonly onSelect: (peer: SwarmPeer) => void,
  ) {
    const head = element('thead', {}, element('tr', {}, ...['peer', 'state', 'roles', 'reaches', 'API'].map((name) => element('th', {}, name))));
    replaceChildren(container, this.summary, this.graph, element('table', { class: 'peers' }, head, this.table));
  }

  render(view: SwarmView): void {
    const up = view.peers.filter((peer) => peer.state === 'up').length;
    const leader = view.leader === null ? 'no leader' : `leader ${shortId(view.leader)}`;
    const cut = view.truncated === true ? ' · only the first peers were asked' : '';
    this.summary.textContent = `${view.peers.length} peers, ${up} up · ${leader} · ${modeOf(view)} replication · this page is served by ${shortId(view.self)}${cut}`;
    this.drawGraph(view);
    replaceChildren(this.table, ...view.peers.map((peer) => this.row(peer, view)));
  }

  showError(message: string): void {
    this.summary.textContent = `The swarm view failed: ${message}`;
  }

  private drawGraph(view: SwarmView): void {
    const positions = circleLayout(view.peers.map((peer) => peer.nodeId), graphWidth, graphHeight, graphMargin);
    const edges = edgesOf(view.peers).map((edge) => {
      const from = positions.get(edge.from)!;
      const to = positions.get(edge.to)!;
      return svgElement('line', {
        x1: from.x, y1: from.y, x2: to.x, y2: to.y,
        class: edge.mutual ? 'edge mutual' : 'edge one-way',
        'data-testid': 'peer-edge',
        'data-from': edge.from,
        'data-to': edge.to,
      }, svgElement('title', {}, edge.mutual ? `${shortId(edge.from)} and ${shortId(edge.to)} see each other up` : `only ${shortId(edge.seenBy!)} sees the other up`));
    });
    const nodes = view.peers.map((peer) => this.node(peer, positions.get(peer.nodeId)!, view));
    replaceChildren(this.graph, ...edges, ...nodes);
  }

  private node(peer: SwarmPeer, at: Point, view: SwarmView): SVGGElement {
    const isLeader = peer.nodeId === view.leader;
    const classes = ['peer', peer.state, isLeader && 'leader', peer.nodeId === view.self && 'self', peer.nodeId === this.selected && 'selected'].filter(Boolean).join(' ');
    const group = svgElement('g', {
      class: classes,
      transform: `translate(${at.x.toFixed(1)} ${at.y.toFixed(1)})`,
      tabindex: 0,
      role: 'button',
      'data-testid': 'peer-node',
      'data-node-id': peer.nodeId,
      'data-state': peer.state,
      'data-leader': isLeader,
    },
    svgElement('title', {}, `${peer.contact}\nstate ${peer.state}; roles ${peer.roles.join(', ') || 'none'}${isLeader ? '; the leader' : ''}`),
    isLeader && svgElement('circle', { r: nodeRadius + 6, class: 'leader-ring' }),
    svgElement('circle', { r: nodeRadius, class: 'body' }),
    svgElement('text', { y: -4, class: 'label' }, shortId(peer.nodeId)),
    svgElement('text', { y: 11, class: 'roles' }, rolesInLetters(peer.roles)),
    svgElement('text', { y: nodeRadius + (isLeader ? 22 : 16), class: 'caption' }, [isLeader ? 'leader' : '', peer.state === 'up' ? '' : peer.state].filter(Boolean).join(' · ')),
    );
    const select = () => {
      this.selected = peer.nodeId;
      for (const other of this.graph.querySelectorAll('.peer.selected')) other.classList.remove('selected');
      group.classList.add('selected');
      this.onSelect(peer);
    };
    group.addEventListener('click', select);
    group.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') select();
    });
    return group;
  }

  private row(peer: SwarmPeer, view: SwarmView): HTMLTableRowElement {
    const name = element('button', { class: 'link', type: 'button', title: peer.contact }, shortId(peer.nodeId));
    name.addEventListener('click', () => this.onSelect(peer));
    const marks = [peer.nodeId === view.leader && 'leader', peer.nodeId === view.self && 'this page'].filter(Boolean).join(', ');
    return element('tr', { 'data-testid': 'peer-row', 'data-node-id': peer.nodeId, 'data-state': peer.state },
      element('td', {}, name, marks === '' ? '' : ` (${marks})`),
      element('td', {}, element('span', { class: `state ${peer.state}` }, peer.state)),
      element('td', {}, peer.roles.join(', ')),
      element('td', { class: 'number' }, new Set(peer.reaches.filter((id) => id !== peer.nodeId)).size),
      element('td', {}, peer.api === null ? '–' : element('a', { href: `${peer.api}/`, target: '_blank', rel: 'noopener' }, peer.api)),
    );
  }
}

/** "storage, compute, gateway" -> "S C G": the roles in a circle's small space ('peer', which every peer has, left out). */
function rolesInLetters(roles: readonly string[]): string {
  return roles.filter((role) => role !== 'peer').map((role) => role.charAt(0).toUpperCase()).join(' ');
}
