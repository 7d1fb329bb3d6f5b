/**
 * web/src/graph-layout.ts and web/src/format.ts: where the swarm graph puts its peers,
 * which lines it draws, and how the dashboard writes availabilities and durations.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { duration, percent, probability, shortId } from '../../web/src/format.js';
import { circleLayout, edgesOf } from '../../web/src/graph-layout.js';

describe('circleLayout', () => {
  it('puts every peer on the circle, apart from each other, in the same place whatever the order', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^[0-9a-f]{8}$/), { minLength: 2, maxLength: 9 }), (ids) => {
        const positions = circleLayout(ids, 400, 300, 50);
        const shuffled = circleLayout([...ids].reverse(), 400, 300, 50);
        for (const id of ids) {
          const { x, y } = positions.get(id)!;
          expect(Math.hypot(x - 200, y - 150)).toBeCloseTo(100, 6);
          expect(shuffled.get(id)).toEqual(positions.get(id));
        }
        const points = [...positions.values()];
        for (let i = 0; i < points.length; i++) for (let j = i + 1; j < points.length; j++) expect(Math.hypot(points[i].x - points[j].x, points[i].y - points[j].y)).toBeGreaterThan(1);
      }),
    );
  });

  it('puts a lone peer in the middle and the first of several at the top', () => {
    expect(circleLayout(['a'], 400, 300, 50).get('a')).toEqual({ x: 200, y: 150 });
    const top = circleLayout(['b', 'a', 'c'], 400, 300, 50).get('a')!;
    expect(top.x).toBeCloseTo(200, 6);
    expect(top.y).toBeCloseTo(50, 6);
  });
});

describe('edgesOf', () => {
  it('draws one edge per pair, mutual or one-way, and none to itself or to a peer not in the view', () => {
    const edges = edgesOf([
      { nodeId: 'a', reaches: ['a', 'b', 'c', 'zz'] },
      { nodeId: 'b', reaches: ['a'] },
      { nodeId: 'c', reaches: [] },
      { nodeId: 'd', reaches: ['c'] },
    ]);
    expect(edges).toEqual([
      { from: 'a', to: 'b', mutual: true },
      { from: 'a', to: 'c', mutual: false, seenBy: 'a' },
      { from: 'c', to: 'd', mutual: false, seenBy: 'd' },
    ]);
  });

  it('draws nothing for a peer that is down and reaches no one, and no one reaches', () => {
    expect(edgesOf([{ nodeId: 'a', reaches: ['b'] }, { nodeId: 'b', reaches: ['a'] }, { nodeId: 'c', reaches: [] }]).map((edge) => `${edge.from}-${edge.to}`)).toEqual(['a-b']);
  });
});

describe('format', () => {
  it('shows as many decimals as the availability has nines', () => {
    expect(percent(0.9)).toBe('90.0%');
    expect(percent(0.99953)).toBe('99.953%');
    expect(percent(0.999991)).toBe('99.99910%');
    expect(percent(1)).toBe('100%');
    expect(percent(0)).toBe('0.0%');
    expect(percent(null)).toBe('–');
  });

  it('writes durations in the unit that suits them, probabilities as percentages, node IDs short', () => {
    expect(duration(850)).toBe('850 ms');
    expect(duration(12_300)).toBe('12.3 s');
    expect(duration(90_000)).toBe('1.5 min');
    expect(duration(5_400_000)).toBe('1.5 h');
    expect(duration(null)).toBe('–');
    expect(probability(0.8641)).toBe('86.4%');
    expect(shortId('fa7a1bcb0ade4e42a91e6919ca36c0aab9592f3d')).toBe('fa7a1bcb');
  });
});
