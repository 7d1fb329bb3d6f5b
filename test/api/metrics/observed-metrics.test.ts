import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMetrics, httpOutcomeOf, metricModelsMax, MetricsInputError } from '../../../src/api/metrics/index.js';
import { peerLabeller, StickyLabelValues, truncatedLabel } from '../../../src/api/metrics/labels.js';
import { labelCharactersMax, otherLabel } from '../../../src/api/metrics/constants.js';
import { parseExposition, samplesOf, valueOf } from './prometheus-text.js';

function metricsWithoutSources() {
  return createMetrics({}, { processMetrics: false });
}

describe('completions reported by the OpenAI routes', () => {
  it('counts completions by model and outcome, and their tokens and durations', async () => {
    const metrics = metricsWithoutSources();
    metrics.observeCompletion({ model: 'nines-kjv', outcome: 'success', promptTokens: 10, completionTokens: 40, durationMs: 1500 });
    metrics.observeCompletion({ model: 'nines-kjv', outcome: 'success', promptTokens: 5, completionTokens: 20, durationMs: 500 });
    metrics.observeCompletion({ model: 'nines-kjv', outcome: 'server_busy', promptTokens: 7, completionTokens: 0, durationMs: 3 });
    const text = parseExposition(await metrics.scrape());
    expect(valueOf(text, 'nines_completions_total', { model: 'nines-kjv', outcome: 'success' })).toBe(2);
    expect(valueOf(text, 'nines_completions_total', { model: 'nines-kjv', outcome: 'server_busy' })).toBe(1);
    expect(valueOf(text, 'nines_prompt_tokens_total', { model: 'nines-kjv' })).toBe(22);
    expect(valueOf(text, 'nines_completion_tokens_total', { model: 'nines-kjv' })).toBe(60);
    expect(valueOf(text, 'nines_completion_duration_seconds_count', { model: 'nines-kjv', result: 'success' })).toBe(2);
    expect(valueOf(text, 'nines_completion_duration_seconds_sum', { model: 'nines-kjv', result: 'success' })).toBeCloseTo(2);
    expect(valueOf(text, 'nines_completion_duration_seconds_bucket', { model: 'nines-kjv', result: 'success', le: '1' })).toBe(1);
  });

  it('counts rate-limit refusals by the limit that refused them', async () => {
    const metrics = metricsWithoutSources();
    const refused = { model: 'nines-kjv', outcome: 'rate_limit_exceeded', promptTokens: 0, completionTokens: 0, durationMs: 1 } as const;
    metrics.observeCompletion({ ...refused, rateLimit: 'tokens' });
    metrics.observeCompletion({ ...refused, rateLimit: 'tokens' });
    metrics.observeCompletion({ ...refused, rateLimit: 'streams' });
    metrics.observeCompletion(refused);
    const text = parseExposition(await metrics.scrape());
    expect(valueOf(text, 'nines_rate_limited_total', { limit: 'tokens' })).toBe(2);
    expect(valueOf(text, 'nines_rate_limited_total', { limit: 'streams' })).toBe(1);
    expect(valueOf(text, 'nines_rate_limited_total', { limit: 'unknown' })).toBe(1);
  });

  it('never makes a label of a model the client made up', async () => {
    const metrics = metricsWithoutSources();
    const completion = { outcome: 'success', promptTokens: 1, completionTokens: 1, durationMs: 1 } as const;
    metrics.observeCompletion({ ...completion, model: 'x'.repeat(5000), outcome: 'model_not_found' });
    metrics.observeCompletion({ ...completion, model: undefined, outcome: 'invalid_api_key' });
    for (let index = 0; index < metricModelsMax + 5; index++) metrics.observeCompletion({ ...completion, model: `model-${index}` });
    const text = parseExposition(await metrics.scrape());
    const models = new Set(samplesOf(text, 'nines_completions_total').map((sample) => sample.labels.model));
    expect(models.size).toBe(metricModelsMax + 2);
    expect(valueOf(text, 'nines_completions_total', { model: 'unknown', outcome: 'model_not_found' })).toBe(1);
    expect(valueOf(text, 'nines_completions_total', { model: 'unknown', outcome: 'invalid_api_key' })).toBe(1);
    expect(valueOf(text, 'nines_completions_total', { model: otherLabel, outcome: 'success' })).toBe(5);
  });

  it('refuses observations no metric can hold, saying which field is wrong', () => {
    const metrics = metricsWithoutSources();
    const good = { model: 'nines-kjv', outcome: 'success', promptTokens: 1, completionTokens: 1, durationMs: 1 } as const;
    expect(() => metrics.observeCompletion({ ...good, promptTokens: -1 })).toThrow(MetricsInputError);
    expect(() => metrics.observeCompletion({ ...good, completionTokens: 1.5 })).toThrow(/completionTokens must be a non-negative integer/);
    expect(() => metrics.observeCompletion({ ...good, durationMs: Number.NaN })).toThrow(/durationMs/);
    expect(() => metrics.observeCompletion({ ...good, outcome: 'nope' as never })).toThrow(/outcome must be 'success' or an OpenAI error code/);
    expect(() => metrics.observeCompletion({ ...good, rateLimit: 'bytes' as never })).toThrow(/rateLimit/);
    expect(() => metrics.observeDhtOperation({ kind: 'lookup', ok: true, hops: -2 })).toThrow(/hops/);
  });
});

describe('DHT operations', () => {
  it('counts operations by kind and result, and the hops of the successful ones', async () => {
    const metrics = metricsWithoutSources();
    metrics.observeDhtOperation({ kind: 'findProviders', ok: true, hops: 2 });
    metrics.observeDhtOperation({ kind: 'findProviders', ok: true, hops: 4 });
    metrics.observeDhtOperation({ kind: 'findProviders', ok: false, hops: 0 });
    const text = parseExposition(await metrics.scrape());
    expect(valueOf(text, 'nines_dht_operations_total', { kind: 'findProviders', result: 'ok' })).toBe(2);
    expect(valueOf(text, 'nines_dht_operations_total', { kind: 'findProviders', result: 'failed' })).toBe(1);
    expect(valueOf(text, 'nines_dht_lookup_hops_count', { kind: 'findProviders' })).toBe(2);
    expect(valueOf(text, 'nines_dht_lookup_hops_sum', { kind: 'findProviders' })).toBe(6);
    expect(valueOf(text, 'nines_dht_lookup_hops_bucket', { kind: 'findProviders', le: '3' })).toBe(1);
  });
});

describe('outcomes and bounded labels', () => {
  it('folds statuses into outcomes', () => {
    expect([200, 304, 400, 404, 429, 499, 500, 503].map(httpOutcomeOf)).toEqual(['success', 'success', 'client_error', 'client_error', 'rate_limited', 'cancelled', 'server_error', 'unavailable']);
  });

  it('labels at most peersMax peers by their own id, the same ones whatever the order, and the rest as other', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 80 }), { maxLength: 60 }), fc.integer({ min: 1, max: 20 }), (ids, peersMax) => {
        const label = peerLabeller(ids, peersMax);
        const reversed = peerLabeller([...ids].reverse(), peersMax);
        expect(new Set(ids.map(label)).size).toBeLessThanOrEqual(peersMax + 1);
        for (const id of ids) {
          expect(reversed(id)).toBe(label(id));
          expect(label(id).length).toBeLessThanOrEqual(labelCharactersMax);
        }
        if (new Set(ids).size <= peersMax) for (const id of ids) expect(label(id)).toBe(truncatedLabel(id));
      }),
    );
  });

  it('keeps the first values of a sticky label and folds later ones into other', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 100 }), { maxLength: 50 }), fc.integer({ min: 1, max: 10 }), (values, valuesMax) => {
        const sticky = new StickyLabelValues(valuesMax);
        const labels = values.map((value) => sticky.label(value));
        expect(new Set(labels.filter((label, index) => label !== otherLabel || values[index] === otherLabel)).size).toBeLessThanOrEqual(valuesMax);
        // A value keeps the label it got first.
        for (const [index, value] of values.entries()) expect(sticky.label(value)).toBe(labels[index]);
      }),
    );
  });
});
