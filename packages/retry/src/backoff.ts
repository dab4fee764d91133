import type { Random } from './random.ts';

/**
 * How randomness spreads the exponential delays, after the AWS Architecture Blog's
 * "Exponential Backoff and Jitter":
 * - `full`: uniform in [0, cap]. The default; best at breaking up synchronised clients.
 * - `equal`: cap/2 plus uniform in [0, cap/2]; never retries immediately.
 * - `decorrelated`: uniform in [initialDelay, previousDelay * 3], capped; depends on the last delay.
 * - `none`: exactly the cap. Only for tests and for comparison in benchmarks.
 */
export type Jitter = 'full' | 'equal' | 'decorrelated' | 'none';

export interface BackoffOptions {
  /** Delay before the first retry, before jitter. In ms. */
  initialDelayMs: number;
  /** No delay ever exceeds this. In ms. */
  maxDelayMs: number;
  /** Growth factor per retry. */
  multiplier: number;
  jitter: Jitter;
}

/**
 * The exponential ceiling for the retry numbered `retry` (0 for the first retry):
 * `min(maxDelay, initialDelay * multiplier^retry)`.
 */
export function exponentialCapMs(retry: number, options: BackoffOptions): number {
  const raw = options.initialDelayMs * options.multiplier ** Math.max(0, retry);
  // multiplier^retry overflows to Infinity for large retry counts; the cap still holds.
  return Math.min(options.maxDelayMs, Number.isFinite(raw) ? raw : options.maxDelayMs);
}

/**
 * The delay before the retry numbered `retry` (0 for the first retry), always within [0, maxDelayMs].
 * `previousDelayMs` is only read by decorrelated jitter.
 */
export function backoffDelayMs(
  retry: number,
  options: BackoffOptions,
  random: Random = Math.random,
  previousDelayMs?: number,
): number {
  const cap = exponentialCapMs(retry, options);
  switch (options.jitter) {
    case 'none':
      return cap;
    case 'full':
      return random() * cap;
    case 'equal':
      return cap / 2 + (random() * cap) / 2;
    case 'decorrelated': {
      const low = Math.min(options.initialDelayMs, options.maxDelayMs);
      const high = Math.max(low, (previousDelayMs ?? options.initialDelayMs) * 3);
      return Math.min(options.maxDelayMs, low + random() * (high - low));
    }
  }
}
