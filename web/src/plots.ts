/**
 * Live plots of this gateway's traffic, second by second (uPlot): requests per second by
 * outcome, latency p50 and p99, and errors (failed and rejected). The x axis is the wall
 * clock; seconds without requests are gaps in the latency plot, not zeros.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { element, replaceChildren } from './dom.js';
import type { RequestSecond } from './types.js';

const plotHeightPixels = 160;
const colours = { ok: '#2e8b57', failed: '#c0392b', rejected: '#e67e22', p50: '#2c6fbb', p99: '#8e44ad' };

interface PlotSpec {
  testId: string;
  title: string;
  unit: string;
  series: { label: string; colour: string; value: (second: RequestSecond) => number | null }[];
}

const specs: PlotSpec[] = [
  { testId: 'plot-requests', title: 'Requests per second', unit: 'requests/s', series: [{ label: 'ok', colour: colours.ok, value: (second) => second.ok }] },
  {
    testId: 'plot-latency',
    title: 'Latency',
    unit: 'ms',
    series: [
      { label: 'p50', colour: colours.p50, value: (second) => second.latencyMsP50 },
      { label: 'p99', colour: colours.p99, value: (second) => second.latencyMsP99 },
    ],
  },
  {
    testId: 'plot-errors',
    title: 'Errors per second',
    unit: 'requests/s',
    series: [
      { label: 'failed', colour: colours.failed, value: (second) => second.failed },
      { label: 'rejected', colour: colours.rejected, value: (second) => second.rejected },
    ],
  },
];

export class TrafficPlots {
  private readonly plots: { spec: PlotSpec; plot: uPlot; box: HTMLElement }[] = [];
  private readonly note = element('p', { class: 'muted', 'data-testid': 'traffic-note' });

  constructor(container: HTMLElement) {
    const boxes = specs.map((spec) => element('div', { class: 'plot', 'data-testid': spec.testId }, element('h4', {}, spec.title)));
    replaceChildren(container, this.note, element('div', { class: 'plots' }, ...boxes));
    specs.forEach((spec, index) => {
      const box = boxes[index];
      const plot = new uPlot(optionsOf(spec, widthOf(box)), [[], ...spec.series.map(() => [])], box);
      this.plots.push({ spec, plot, box });
    });
    const resize = new ResizeObserver(() => {
      for (const { plot, box } of this.plots) plot.setSize({ width: widthOf(box), height: plotHeightPixels });
    });
    resize.observe(container);
  }

  render(seconds: readonly RequestSecond[]): void {
    const sorted = [...seconds].sort((a, b) => a.atMs - b.atMs);
    const times = sorted.map((second) => second.atMs / 1000);
    for (const { spec, plot } of this.plots) plot.setData([times, ...spec.series.map((series) => sorted.map((second) => series.value(second)))]);
    const total = sorted.reduce((sum, second) => sum + second.ok + second.failed + second.rejected, 0);
    this.note.textContent = `${total} requests through this gateway in the last ${sorted.length} seconds`;
  }

  showError(message: string): void {
    this.note.textContent = `The traffic series failed: ${message}`;
  }
}

function optionsOf(spec: PlotSpec, width: number): uPlot.Options {
  return {
    width,
    height: plotHeightPixels,
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: { range: (_plot, min, max) => [Math.min(0, min ?? 0), Math.max(1, max ?? 1)] } },
    axes: [{}, { label: spec.unit, size: 56 }],
    series: [{}, ...spec.series.map((series) => ({ label: series.label, stroke: series.colour, width: 2, spanGaps: false, points: { show: false } }))],
  };
}

function widthOf(box: HTMLElement): number {
  return Math.max(240, Math.floor(box.clientWidth || box.parentElement?.clientWidth || 360));
}
