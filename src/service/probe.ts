import { appendFileSync } from 'node:fs';
const samples = new Map<string, number[]>();
export function probe(name: string, ms: number): void {
  if (process.env.NINES_PROBE === undefined) return;
  const list = samples.get(name) ?? [];
  samples.set(name, list);
  list.push(ms);
  if (list.length % 100 === 0) {
    const sorted = [...list.slice(-100)].sort((a, b) => a - b);
    appendFileSync(`/tmp/probe-${process.pid}.log`, `${name} n=${list.length} p50=${sorted[50].toFixed(3)} p10=${sorted[10].toFixed(3)} p90=${sorted[90].toFixed(3)}\n`);
  }
}
export function mark(label: string): void {
  if (process.env.NINES_PROBE === undefined) return;
  appendFileSync('/tmp/timeline.log', `${(performance.timeOrigin + performance.now()).toFixed(3)} ${label}\n`);
}
