/**
 * The checks every parity case makes, once both sides have run the same file over the
 * same prompt: logits at every prompt position, llama.cpp's rounding emulated (where the
 * emulation is exact), and greedy decoding token for token.
 */
import { expect, it } from 'vitest';
import { type GapComparison, type ParityRun, compareGaps, greedyDisagreements } from './parity.js';
import { emulatedLogits } from './emulated-forward.js';
import { emulatedMedianErrorBound, emulatedPositions, greedyTiesMax, greedyTokenCount } from './tolerances.js';

export interface ParityCase {
  path: string;
  prompt: number[];
  ours: ParityRun;
  theirs: ParityRun;
}

export interface ParityCheckOptions {
  label: string;
  /** The bound on the relative gap error (see parity.ts and tolerances.ts). */
  bound: number;
  /** A greedy pick may differ only where llama.cpp's lead is below this fraction of its logit spread (a near-tie; see tolerances.ts). */
  tieLead: number;
  /** Whether emulated-forward.ts reproduces llama.cpp's arithmetic for this file exactly. */
  emulate: boolean;
  /** The case, once the suite's beforeAll has run both sides. */
  current: () => ParityCase;
}

export function defineParityChecks({ label, bound, tieLead, emulate, current }: ParityCheckOptions): void {
  it(`has the logits of every prompt position within ${bound} of llama.cpp's (relative gap error)`, () => {
    const { prompt, ours, theirs } = current();
    const comparison = compareGaps(ours.promptLogits, theirs.promptLogits);
    report(`${label}, prompt of ${prompt.length}`, comparison);
    expect(comparison.unobservableMismatches).toBe(0);
    expect(comparison.relativeGapError).toBeLessThan(bound);
  });

  // Declared only where it applies, so that the suite shows no skipped tests for it.
  if (emulate) it(`differs from llama.cpp by llama.cpp's rounding alone (emulated, median position within ${emulatedMedianErrorBound})`, () => {
    const { path, prompt, theirs } = current();
    const comparison = compareGaps(emulatedLogits(path, prompt.slice(0, emulatedPositions)), theirs.promptLogits.slice(0, emulatedPositions));
    report(`${label}, emulated llama.cpp arithmetic`, comparison);
    expect(comparison.medianPositionError).toBeLessThan(emulatedMedianErrorBound);
  });

  const forgiven = tieLead > 0 ? ` (near-ties under ${tieLead} of the logit spread aside)` : '';
  it(`decodes the same ${greedyTokenCount} tokens greedily${forgiven}, every step's logits within ${bound}`, () => {
    const { ours, theirs } = current();
    const disagreements = greedyDisagreements(ours, theirs);
    const describe = disagreements.map(({ step, ours: our, theirs: their, theirLead }) => `step ${step}: nines ${our}, llama.cpp ${their} (its lead ${theirLead.toExponential(2)} of the spread)`);
    console.info(`${label}, greedy decoding: ${disagreements.length === 0 ? `all ${theirs.greedyTokens.length} tokens identical` : describe.join('; ')}`);
    expect(describe.filter((_, index) => disagreements[index].theirLead >= tieLead), 'greedy picks that differ where llama.cpp is not near a tie').toEqual([]);
    expect(disagreements.length, 'near-ties').toBeLessThanOrEqual(greedyTiesMax);
    const comparison = compareGaps(ours.decodeLogits, theirs.decodeLogits);
    report(`${label}, greedy decoding`, comparison);
    expect(comparison.relativeGapError).toBeLessThan(bound);
  });
}

function report(label: string, comparison: GapComparison): void {
  console.info(
    `${label}: relative gap error ${comparison.relativeGapError.toExponential(2)} (position ${comparison.position}, token ${comparison.token}), ` +
      `median over positions ${comparison.medianPositionError.toExponential(2)}; argmax differs at ${comparison.argmaxDisagreements} positions`,
  );
}
