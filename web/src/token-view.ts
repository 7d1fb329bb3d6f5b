/**
 * The answer's tokens as coloured spans (two colours, alternating at each token boundary,
 * so that sub-words show: " begin" + "ning"), and the tooltip a token shows on hover or
 * focus: the sampling step behind it — the candidates that survived top-k and top-p with
 * their probabilities, the one the weighted coin chose, and the peer that computed it.
 */
import { element, replaceChildren } from './dom.js';
import { probability, shortId, visibleToken } from './format.js';
import type { TraceEntry } from './types.js';

/** The widest bar in the tooltip, in pixels, for a probability of 1. */
const barPixelsMax = 120;

export class TokenTooltip {
  readonly element = element('div', { class: 'tooltip', role: 'tooltip', 'data-testid': 'token-tooltip', hidden: true });

  constructor() {
    document.body.append(this.element);
  }

  show(anchor: HTMLElement, steps: readonly TraceEntry[]): void {
    replaceChildren(this.element, ...steps.map((step) => stepView(step)));
    this.element.hidden = false;
    const box = anchor.getBoundingClientRect();
    const left = Math.min(window.scrollX + box.left, window.scrollX + document.documentElement.clientWidth - this.element.offsetWidth - 8);
    this.element.style.left = `${Math.max(4, left)}px`;
    this.element.style.top = `${window.scrollY + box.bottom + 6}px`;
  }

  hide(): void {
    this.element.hidden = true;
  }
}

function stepView(step: TraceEntry): HTMLElement {
  const rows = step.candidates.map((candidate) =>
    element('tr', { class: candidate.id === step.id ? 'chosen' : '', 'data-testid': 'candidate' },
      element('td', { class: 'token-text' }, visibleToken(candidate.token)),
      element('td', { class: 'number' }, probability(candidate.probability)),
      element('td', {}, element('span', { class: 'bar', style: `width: ${Math.max(1, Math.round(candidate.probability * barPixelsMax))}px` })),
    ),
  );
  const chosenListed = step.candidates.some((candidate) => candidate.id === step.id);
  return element('div', { class: 'step' },
    element('p', {}, 'sampled ', element('strong', {}, visibleToken(step.token)), ` (id ${step.id}) with probability ${probability(step.probability)}`),
    element('table', {}, element('tbody', {}, ...rows)),
    !chosenListed && element('p', { class: 'muted' }, 'the chosen token was not among the top candidates shown'),
    element('p', { class: 'muted', 'data-testid': 'token-peer' }, step.peer === undefined ? 'computed in-process' : `computed by peer ${shortId(step.peer)}`),
  );
}

/** Appends pieces of an answer as token spans, alternating colours, each with its tooltip. */
export class TokenWriter {
  private count = 0;

  constructor(
    private readonly target: HTMLElement,
    private readonly tooltip: TokenTooltip,
  ) {}

  append(text: string, steps: readonly TraceEntry[]): void {
    if (steps.length === 0) {
      // Text without a trace (the last bytes a stream flushes) is shown plainly.
      this.target.append(text);
      return;
    }
    const span = element('span', { class: `token token-${this.count % 2 === 0 ? 'a' : 'b'}`, tabindex: 0, 'data-testid': 'token', 'data-token-id': steps.map((step) => step.id).join(' ') }, text);
    this.count++;
    span.addEventListener('mouseenter', () => this.tooltip.show(span, steps));
    span.addEventListener('focus', () => this.tooltip.show(span, steps));
    span.addEventListener('mouseleave', () => this.tooltip.hide());
    span.addEventListener('blur', () => this.tooltip.hide());
    this.target.append(span);
  }
}
