/**
 * A strict little parser of Prometheus' text exposition format (0.0.4), for the tests: every
 * line must be a HELP, a TYPE or a sample of a metric whose TYPE came first, or it throws.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  help: Map<string, string>;
  type: Map<string, string>;
  samples: Sample[];
}

const metricName = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const helpLine = new RegExp(`^# HELP (${metricName}) (.*)$`);
const typeLine = new RegExp(`^# TYPE (${metricName}) (counter|gauge|histogram|summary|untyped)$`);
const sampleLine = new RegExp(`^(${metricName})(\\{.*\\})? (\\S+)$`);
const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
const histogramSuffixes = ['_bucket', '_sum', '_count'];

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const inner = text.slice(1, -1);
  labelPair.lastIndex = 0;
  while (labelPair.lastIndex < inner.length) {
    const match = labelPair.exec(inner);
    if (match === null) throw new Error(`bad labels in line: ${line}`);
    labels[match[1]] = match[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
  }
  return labels;
}

function parseValue(text: string, line: string): number {
  // Prometheus reads values with Go's ParseFloat, which takes NaN and Inf in any case (prom-client writes "Nan").
  const lower = text.toLowerCase();
  if (lower === '+inf' || lower === 'inf') return Number.POSITIVE_INFINITY;
  if (lower === '-inf') return Number.NEGATIVE_INFINITY;
  if (lower === 'nan') return Number.NaN;
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`bad value in line: ${line}`);
  return value;
}

/** The metric family a sample belongs to: itself, or a histogram's name without its suffix. */
function familyOf(name: string, type: Map<string, string>): string | undefined {
  if (type.has(name)) return name;
  for (const suffix of histogramSuffixes) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      if (type.get(base) === 'histogram' || type.get(base) === 'summary') return base;
    }
  }
  return undefined;
}

export function parseExposition(text: string): Exposition {
  const exposition: Exposition = { help: new Map(), type: new Map(), samples: [] };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const help = helpLine.exec(line);
    if (help !== null) {
      if (exposition.help.has(help[1])) throw new Error(`second HELP for ${help[1]}`);
      exposition.help.set(help[1], help[2]);
      continue;
    }
    const type = typeLine.exec(line);
    if (type !== null) {
      if (!exposition.help.has(type[1])) throw new Error(`TYPE before HELP for ${type[1]}`);
      exposition.type.set(type[1], type[2]);
      continue;
    }
    const sample = sampleLine.exec(line);
    if (sample === null) throw new Error(`not a HELP, TYPE or sample line: ${line}`);
    if (familyOf(sample[1], exposition.type) === undefined) throw new Error(`sample of ${sample[1]} before its TYPE`);
    exposition.samples.push({ name: sample[1], labels: sample[2] === undefined ? {} : parseLabels(sample[2], line), value: parseValue(sample[3], line) });
  }
  return exposition;
}

/** The samples of `name` whose labels include `labels`. */
export function samplesOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): Sample[] {
  return exposition.samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
}

/** The one sample of `name` with exactly these labels' values (others may be present), or undefined. */
export function valueOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samplesOf(exposition, name, labels);
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}
