/**
 * The service's metrics read from sources: a gateway's admission queue and degradation
 * level, and a compute peer's generation counters.
 */
import type { Registry } from 'prom-client';
import { degradationLevels } from '../../resilience/index.js';
import type { ComputeCounters } from '../../service/compute/compute-engine.js';
import { snapshotCounter, snapshotGauge } from './snapshot-metrics.js';
import type { ProtectionSnapshot, SourceReader } from './sources.js';

const waitQuantiles = [['0.5', 'p50'], ['0.9', 'p90'], ['0.99', 'p99'], ['1', 'max']] as const;

export function registerProtectionMetrics(registry: Registry, reader: SourceReader<ProtectionSnapshot>): void {
  const gauge = (name: string, help: string, value: (snapshot: ProtectionSnapshot) => number) => snapshotGauge(registry, reader, { name, help }, (snapshot, add) => add(value(snapshot)));
  snapshotGauge(registry, reader, { name: 'admission_queue_depth', help: 'Requests waiting in the gateway\'s admission queue for a generation slot, by priority.', labelNames: ['priority'] }, (snapshot, add) => {
    add(snapshot.admission.depthNormal, { priority: 'normal' });
    add(snapshot.admission.depthLow, { priority: 'low' });
  });
  gauge('admission_queue_depth_max', 'The most requests the admission queue holds; past it requests are refused with 503.', (snapshot) => snapshot.admission.queueDepthMax);
  gauge('admission_in_service', 'Requests holding a generation slot now.', (snapshot) => snapshot.admission.inService);
  gauge('admission_concurrency_max', 'Generation slots of this gateway.', (snapshot) => snapshot.admission.concurrencyMax);
  gauge('admission_service_time_mean_seconds', 'Mean time a request held a slot, over recent requests.', (snapshot) => snapshot.admission.serviceTimeMsMean / 1000);
  snapshotGauge(
    registry,
    reader,
    { name: 'admission_wait_recent_seconds', help: 'Time recent admitted requests waited for a slot, at these quantiles (1 is the longest) over the queue\'s recent window.', labelNames: ['quantile'] },
    (snapshot, add) => {
      if (snapshot.admission.waitMs.count === 0) return;
      for (const [quantile, field] of waitQuantiles) add(snapshot.admission.waitMs[field] / 1000, { quantile });
    },
  );
  snapshotCounter(registry, reader, { name: 'admission_admitted_total', help: 'Requests the admission queue gave a slot.' }, (snapshot, add) => add(snapshot.admission.admitted));
  snapshotCounter(
    registry,
    reader,
    { name: 'admission_rejected_total', help: 'Requests the admission queue refused: queue full, deadline passed (or out of reach), or the client went away while waiting.', labelNames: ['reason'] },
    (snapshot, add) => {
      add(snapshot.admission.rejected.queueFull, { reason: 'queue_full' });
      add(snapshot.admission.rejected.deadline, { reason: 'deadline' });
      add(snapshot.admission.rejected.aborted, { reason: 'aborted' });
    },
  );
  snapshotGauge(
    registry,
    reader,
    { name: 'degradation_level', help: `The gateway's degradation level: 1 for the current one, 0 for the others (from normal to refusing everything: ${degradationLevels.join(', ')}).`, labelNames: ['level'] },
    (snapshot, add) => {
      if (!degradationLevels.includes(snapshot.degradationLevel)) throw new TypeError(`unknown degradation level ${JSON.stringify(snapshot.degradationLevel)}`);
      for (const level of degradationLevels) add(snapshot.degradationLevel === level ? 1 : 0, { level });
    },
  );
  gauge('degradation_level_index', `The gateway's degradation level as a number: ${degradationLevels.map((level, index) => `${index} ${level}`).join(', ')}.`, (snapshot) => degradationLevels.indexOf(snapshot.degradationLevel));
}

export function registerComputeMetrics(registry: Registry, reader: SourceReader<ComputeCounters>): void {
  const counter = (name: string, help: string, value: (counters: ComputeCounters) => number) => snapshotCounter(registry, reader, { name, help }, (counters, add) => add(value(counters)));
  counter('tokens_generated_total', 'Tokens this compute peer generated.', (counters) => counters.tokens);
  counter('compute_chunks_total', 'Generation chunks this compute peer ran.', (counters) => counters.chunks);
  counter('compute_resumes_total', 'Chunks that had to start their job again from resume data (failover or eviction).', (counters) => counters.resumes);
  counter('compute_refused_busy_total', 'Chunks this compute peer refused because it was busy.', (counters) => counters.refusedBusy);
}
