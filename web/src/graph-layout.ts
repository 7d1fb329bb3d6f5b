/**
 * Where the swarm graph puts its peers and which lines it draws: pure functions of the
 * swarm view, kept apart from the DOM so that they can be tested on their own.
 */

export interface Point {
  x: number;
  y: number;
}

/**
 * The peers on a circle, ordered by node ID so that a peer keeps its place between polls,
 * the first at the top and the rest clockwise. One peer sits in the middle.
 */
export function circleLayout(nodeIds: readonly string[], width: number, height: number, margin: number): Map<string, Point> {
  const ordered = [...nodeIds].sort();
  const center = { x: width / 2, y: height / 2 };
  const radius = Math.max(0, Math.min(width, height) / 2 - margin);
  const positions = new Map<string, Point>();
  ordered.forEach((nodeId, index) => {
    if (ordered.length === 1) {
      positions.set(nodeId, center);
      return;
    }
    const angle = -Math.PI / 2 + (2 * Math.PI * index) / ordered.length;
    positions.set(nodeId, { x: center.x + radius * Math.cos(angle), y: center.y + radius * Math.sin(angle) });
  });
  return positions;
}

export interface Edge {
  /** The smaller node ID of the two, so that each pair is drawn once. */
  from: string;
  to: string;
  /** Both see each other up; otherwise only `from` sees `to` or only `to` sees `from`. */
  mutual: boolean;
  /** The one that sees the other, when the edge is one-way. */
  seenBy?: string;
}

/** One edge per pair of known peers of which at least one reaches the other; a peer's line to itself, or to a peer not in the view, is left out. */
export function edgesOf(peers: readonly { nodeId: string; reaches: readonly string[] }[]): Edge[] {
  const known = new Set(peers.map((peer) => peer.nodeId));
  const reaches = new Map(peers.map((peer) => [peer.nodeId, new Set(peer.reaches)]));
  const edges: Edge[] = [];
  const ids = [...known].sort();
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) {
      const from = ids[i];
      const to = ids[j];
      const forward = reaches.get(from)!.has(to);
      const backward = reaches.get(to)!.has(from);
      if (forward && backward) edges.push({ from, to, mutual: true });
      else if (forward) edges.push({ from, to, mutual: false, seenBy: from });
      else if (backward) edges.push({ from, to, mutual: false, seenBy: to });
    }
  }
  return edges;
}
