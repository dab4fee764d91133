/** A measure over repetitions: every raw value, in the order measured, and its median and spread. */
export interface Summary {
  raw: number[];
  median: number;
  min: number;
  max: number;
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = sortedCopy(values, 'median');
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * The nearest-rank percentile: the smallest value with at least `p` % of the values at or below it.
 * No interpolation, so the p99 of 1 000 latencies is the 10th slowest, a latency that was measured.
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile: p must be in (0, 100], got ${p}`);
  const sorted = sortedCopy(values, 'percentile');
  return sorted[Math.ceil((p / 100) * sorted.length) - 1] as number;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = sortedCopy(values, 'summarize');
  return {
    raw: [...values],
    median: median(sorted),
    min: sorted[0] as number,
    max: sorted[sorted.length - 1] as number,
  };
}

/**
 * `numerators[i] / denominators[i]` for each repetition: in an A B A B run, each pair ran back to back,
 * so the ratio of a pair cancels the drift that moves absolute figures between pairs.
 */
export function pairedRatios(numerators: readonly number[], denominators: readonly number[]): number[] {
  if (numerators.length !== denominators.length)
    throw new RangeError(
      `pairedRatios: ${numerators.length} numerators for ${denominators.length} denominators`,
    );
  return numerators.map((value, i) => value / (denominators[i] as number));
}

/**
 * Jain's fairness index of the shares `values` (e.g. successes per client): (Σx)² ÷ (n · Σx²), 1 when
 * all are equal, 1/n when one takes everything. Jain, Chiu and Hawe, DEC-TR-301 (1984).
 */
export function jainIndex(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('jainIndex: no values');
  const sum = values.reduce((total, x) => total + x, 0);
  const squares = values.reduce((total, x) => total + x * x, 0);
  // Nobody got anything: equally nothing, which is fair.
  return squares === 0 ? 1 : (sum * sum) / (values.length * squares);
}

function sortedCopy(values: readonly number[], what: string): number[] {
  // An empty measurement is a bug in the benchmark, never a value to report.
  if (values.length === 0) throw new RangeError(`${what}: no values`);
  return [...values].sort((a, b) => a - b);
}
