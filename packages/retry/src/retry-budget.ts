import { type Clock, systemClock } from './clock.ts';

/**
 * A cap on retries to one upstream, as a share of its recent requests, so that retries in three layers
 * and many processes cannot multiply into a storm. gRPC's retry throttling (gRFC A6) and the AWS SDK's
 * retry quota apply this rule per client; a Redis budget applies it to the fleet. When it is spent the lower
 * layers stop retrying and hand the job to the job level, which delays it (`RetryBudgetExhaustedError`).
 *
 * Call `recordRequest` once per call (its first attempt), and `tryRetry` before each retry: retries are
 * not requests, so a 20% ratio bounds the extra load retries add at 20%.
 */
export interface RetryBudget {
  /** The window the budget is counted over; a spent budget frees up within it. In ms. */
  readonly windowMs: number;
  recordRequest(target: string): Promise<void>;
  /** Spends one retry and returns true if the budget allows it; returns false and spends nothing otherwise. */
  tryRetry(target: string): Promise<boolean>;
}

export interface RetryBudgetOptions {
  /** Retries allowed as a share of the requests in the window. Default 0.2 (the 20% of Envoy's and Finagle's retry budgets). */
  ratio?: number;
  /** Retries allowed per window however few requests there were, so a quiet upstream can still be retried. Default 3 (as Envoy's `min_retry_concurrency`). */
  minRetriesPerWindow?: number;
  /** The sliding window the counts cover. Default 10 000 ms. In ms. */
  windowMs?: number;
  clock?: Clock;
}

export const defaultRetryBudgetOptions = {
  ratio: 0.2,
  minRetriesPerWindow: 3,
  windowMs: 10_000,
} as const;

/** Counts of one target in the current fixed window and the one before. */
interface RetryWindowCounts {
  /** Index of the current window: `floor(nowMs / windowMs)`. */
  window: number;
  requests: number;
  retries: number;
  previousRequests: number;
  previousRetries: number;
}

/**
 * Moves counts to the window `nowMs` falls in. A sliding window is estimated from two fixed ones, the
 * previous weighted by how much of it still overlaps the last `windowMs` (the "sliding window counter"),
 * so the budget does not drop to its floor at every window boundary. The Redis script does the same.
 */
function slideRetryWindow(
  counts: RetryWindowCounts | undefined,
  nowMs: number,
  windowMs: number,
): RetryWindowCounts {
  const window = Math.floor(nowMs / windowMs);
  if (counts === undefined || counts.window < window - 1) {
    return { window, requests: 0, retries: 0, previousRequests: 0, previousRetries: 0 };
  }
  if (counts.window === window - 1) {
    return {
      window,
      requests: 0,
      retries: 0,
      previousRequests: counts.requests,
      previousRetries: counts.retries,
    };
  }
  // Same window, or a clock that stepped back: keep counting in the newest window seen.
  return counts;
}

/** One process's retry budgets, one per target. */
export class InMemoryRetryBudget implements RetryBudget {
  readonly ratio: number;
  readonly minRetriesPerWindow: number;
  readonly windowMs: number;
  private readonly clock: Clock;
  private readonly countsByTarget = new Map<string, RetryWindowCounts>();

  constructor(options: RetryBudgetOptions = {}) {
    this.ratio = options.ratio ?? defaultRetryBudgetOptions.ratio;
    this.minRetriesPerWindow = options.minRetriesPerWindow ?? defaultRetryBudgetOptions.minRetriesPerWindow;
    this.windowMs = options.windowMs ?? defaultRetryBudgetOptions.windowMs;
    this.clock = options.clock ?? systemClock;
    if (!(Number.isFinite(this.ratio) && this.ratio >= 0)) {
      throw new RangeError(`RetryBudget: ratio must be a finite number >= 0, got ${this.ratio}`);
    }
    if (!(Number.isInteger(this.minRetriesPerWindow) && this.minRetriesPerWindow >= 0)) {
      throw new RangeError(
        `RetryBudget: minRetriesPerWindow must be a whole number >= 0, got ${this.minRetriesPerWindow}`,
      );
    }
    if (!(Number.isInteger(this.windowMs) && this.windowMs > 0)) {
      throw new RangeError(`RetryBudget: windowMs must be a whole number > 0, got ${this.windowMs}`);
    }
  }

  async recordRequest(target: string): Promise<void> {
    const counts = this.slide(target);
    counts.requests += 1;
  }

  async tryRetry(target: string): Promise<boolean> {
    const nowMs = this.clock.now();
    const counts = this.slide(target, nowMs);
    const elapsedInWindowMs = nowMs - counts.window * this.windowMs;
    const previousWeight = Math.min(1, Math.max(0, 1 - elapsedInWindowMs / this.windowMs));
    const requests = counts.requests + counts.previousRequests * previousWeight;
    const retries = counts.retries + counts.previousRetries * previousWeight;
    if (retries + 1 > Math.max(this.minRetriesPerWindow, this.ratio * requests)) return false;
    counts.retries += 1;
    return true;
  }

  private slide(target: string, nowMs = this.clock.now()): RetryWindowCounts {
    const counts = slideRetryWindow(this.countsByTarget.get(target), nowMs, this.windowMs);
    this.countsByTarget.set(target, counts);
    return counts;
  }
}

export interface RetryBudgetExhaustedDetails {
  /** The upstream whose budget is spent, e.g. `llm` or `github:installation:123`. */
  target: string;
  /** When the budget will have freed up: the job level delays the job until then. */
  retryAt?: Date | undefined;
  /** Attempts made before the budget said no, counting the first. */
  attempts?: number | undefined;
  /** HTTP status of the last failure. */
  status?: number | undefined;
  /** The last failure. */
  cause?: unknown;
}

/**
 * The retry budget for an upstream is spent: this layer stops retrying and the job level delays the job
 * until `retryAt`. Not a `RetryError` (its codes are a closed list), but shaped like one: `classifyError`
 * trusts the boolean `retryable` and reads `retryAt`, so the job level treats it as "retry later, at".
 */
export class RetryBudgetExhaustedError extends Error {
  override name = 'RetryBudgetExhaustedError';
  readonly code = 'retry_budget_exhausted';
  readonly retryable = true;
  readonly reason = 'retry budget exhausted';
  readonly target: string;
  readonly retryAt: Date | undefined;
  readonly attempts: number | undefined;
  readonly status: number | undefined;

  constructor(details: RetryBudgetExhaustedDetails) {
    const when = details.retryAt === undefined ? '' : `; try again at ${details.retryAt.toISOString()}`;
    super(
      `Retry budget for "${details.target}" is spent${when}`,
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.target = details.target;
    this.retryAt = details.retryAt;
    this.attempts = details.attempts;
    this.status = details.status;
  }
}

export function isRetryBudgetExhaustedError(error: unknown): error is RetryBudgetExhaustedError {
  return error instanceof RetryBudgetExhaustedError;
}
