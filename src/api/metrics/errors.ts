/**
 * Errors of the metrics layer, each with a stable `code`. A failing snapshot source is not
 * an error here: the scrape leaves its series out and counts it in
 * `nines_metrics_source_errors_total` instead of failing the whole scrape.
 */

/** An observation with a value no metric can hold (a negative token count, a NaN duration). */
export class MetricsInputError extends Error {
  override name = 'MetricsInputError';
  readonly code = 'METRICS_INPUT_INVALID';
}
