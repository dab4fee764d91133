import { type Clock, sleep as realSleep, type Sleep, systemClock } from './clock.ts';

/**
 * Keeps calls to an upstream under a known quota. `acquire` before each attempt (as `pace` in
 * `retryWithBackoff`, so queueing is not counted against the attempt's timeout); report 429s and
 * successes so that an adaptive limiter can follow what the upstream actually accepts.
 */
export interface RateLimiter {
  /** Resolves when a call to `target` may go; rejects at once with the signal's reason when it aborts. */
  acquire(target: string, signal?: AbortSignal): Promise<void>;
  /**
   * The upstream throttled a call (HTTP 429, a rate-limit 403): an adaptive limiter lowers its rate. With
   * `untilMs` (epoch ms, the upstream's `Retry-After`), the bucket is emptied and holds until then, so that
   * callers resume one by one at the limiter's rate instead of all at once when the hint runs out.
   */
  onThrottled(target: string, untilMs?: number): void | Promise<void>;
  /** A call succeeded: an adaptive limiter raises its rate slowly back toward the configured one. */
  onSuccess(target: string): void | Promise<void>;
}

export interface TokenBucketRateLimiterOptions {
  /** The known quota: tokens added per second, and the most an adaptive limiter goes back up to. Per second. */
  ratePerSec: number;
  /** Most tokens the bucket holds: calls let through at once after a quiet spell. Default: one second's worth, at least 1. */
  burst?: number;
  /** Lower the rate on throttling and raise it slowly on success (AIMD). Default false. */
  adaptive?: boolean;
  /** Floor of an adaptive rate. Default 0.5 per second (the AWS SDK's minimum fill rate), or `ratePerSec` if lower. Per second. */
  minRatePerSec?: number;
  /** Multiplies the rate on throttling. Default 0.5 (halve it, as TCP's AIMD does). */
  decreaseFactor?: number;
  /** Added to the rate per second of successful calls, up to `ratePerSec`. Default: 5% of `ratePerSec`. Per second, per second. */
  increasePerSec?: number;
  /** At most one decrease per interval. Default 1 000 ms. In ms. */
  decreaseIntervalMs?: number;
  clock?: Clock;
  sleep?: Sleep;
}

export const defaultTokenBucketRateLimiterOptions = {
  adaptive: false,
  minRatePerSec: 0.5,
  decreaseFactor: 0.5,
  /** Share of `ratePerSec` regained per second of success: from half back to full in 10 s. */
  increaseShareOfRate: 0.05,
  decreaseIntervalMs: 1_000,
} as const;

/** What a bucket holds for one target. */
interface BucketState {
  tokens: number;
  refilledAtMs: number;
  ratePerSec: number;
  increasedAtMs: number;
  decreasedAtMs: number;
}

/** Longest stretch one success counts for in the additive increase. In ms. */
const maxIncreaseStepMs = 1_000;

/**
 * A token bucket per target in one process. With `adaptive`, the rate follows the upstream like the AWS
 * SDK's adaptive retry mode: cut on a 429 (multiplicative decrease; the SDK uses CUBIC, we use plain
 * AIMD), regained a little with every success (additive increase), never above `ratePerSec`.
 */
export class TokenBucketRateLimiter implements RateLimiter {
  readonly ratePerSec: number;
  readonly burst: number;
  readonly adaptive: boolean;
  readonly minRatePerSec: number;
  readonly decreaseFactor: number;
  readonly increasePerSec: number;
  readonly decreaseIntervalMs: number;
  private readonly clock: Clock;
  private readonly sleep: Sleep;
  private readonly buckets = new Map<string, BucketState>();

  constructor(options: TokenBucketRateLimiterOptions) {
    const defaults = defaultTokenBucketRateLimiterOptions;
    this.ratePerSec = options.ratePerSec;
    requireRange('ratePerSec', this.ratePerSec, this.ratePerSec > 0);
    this.burst = options.burst ?? Math.max(1, this.ratePerSec);
    this.adaptive = options.adaptive ?? defaults.adaptive;
    this.minRatePerSec = Math.min(options.minRatePerSec ?? defaults.minRatePerSec, this.ratePerSec);
    this.decreaseFactor = options.decreaseFactor ?? defaults.decreaseFactor;
    this.increasePerSec = options.increasePerSec ?? this.ratePerSec * defaults.increaseShareOfRate;
    this.decreaseIntervalMs = options.decreaseIntervalMs ?? defaults.decreaseIntervalMs;
    this.clock = options.clock ?? systemClock;
    this.sleep = options.sleep ?? realSleep;
    requireRange('burst', this.burst, this.burst >= 1);
    requireRange('minRatePerSec', this.minRatePerSec, this.minRatePerSec > 0);
    requireRange('decreaseFactor', this.decreaseFactor, this.decreaseFactor > 0 && this.decreaseFactor < 1);
    requireRange('increasePerSec', this.increasePerSec, this.increasePerSec >= 0);
    requireRange('decreaseIntervalMs', this.decreaseIntervalMs, this.decreaseIntervalMs >= 0);
  }

  async acquire(target: string, signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const waitMs = this.tryAcquire(target);
      if (waitMs === 0) return;
      // Waiters wake and try again rather than reserve, so a rate cut applies to them too.
      await this.sleep(waitMs, signal);
    }
  }

  /** Takes a token if there is one and returns 0; otherwise takes nothing and returns the ms until one is due. */
  tryAcquire(target: string): number {
    const bucket = this.refill(target);
    // A hair of tolerance: refills in floating point can land a rounding error short of a whole token.
    const heldMs = bucket.refilledAtMs - this.clock.now();
    if (heldMs <= 0 && bucket.tokens >= 1 - 1e-9) {
      bucket.tokens = Math.max(0, bucket.tokens - 1);
      return 0;
    }
    return Math.max(1, Math.max(0, heldMs) + Math.ceil(((1 - bucket.tokens) * 1_000) / bucket.ratePerSec));
  }

  onThrottled(target: string, untilMs?: number): void {
    const bucket = this.refill(target);
    const nowMs = this.clock.now();
    // Refills start again at the hint: a bucket "refilled" up to a future time holds its callers until then.
    if (untilMs !== undefined && Number.isFinite(untilMs) && untilMs > nowMs) {
      bucket.tokens = 0;
      bucket.refilledAtMs = Math.max(bucket.refilledAtMs, untilMs);
    }
    if (!this.adaptive) return;
    // The 429s of calls already in flight tell of one overload, not several: cut once per interval.
    if (nowMs - bucket.decreasedAtMs < this.decreaseIntervalMs) return;
    bucket.ratePerSec = Math.max(this.minRatePerSec, bucket.ratePerSec * this.decreaseFactor);
    bucket.decreasedAtMs = nowMs;
    bucket.increasedAtMs = nowMs;
    bucket.tokens = Math.min(bucket.tokens, this.capacity(bucket.ratePerSec));
  }

  onSuccess(target: string): void {
    if (!this.adaptive) return;
    const bucket = this.refill(target);
    const nowMs = this.clock.now();
    // Time counts toward the increase only while successes keep coming: an idle hour is not evidence.
    const stepMs = Math.min(Math.max(0, nowMs - bucket.increasedAtMs), maxIncreaseStepMs);
    bucket.ratePerSec = Math.min(this.ratePerSec, bucket.ratePerSec + (this.increasePerSec * stepMs) / 1_000);
    bucket.increasedAtMs = nowMs;
  }

  /** The rate in force for `target` now, for metrics and tests. Per second. */
  currentRatePerSec(target: string): number {
    return this.buckets.get(target)?.ratePerSec ?? this.ratePerSec;
  }

  /** The bucket holds up to `burst` at the full rate and proportionally less at a lowered one, as the AWS SDK's does. */
  private capacity(ratePerSec: number): number {
    return Math.max(1, (this.burst * ratePerSec) / this.ratePerSec);
  }

  private refill(target: string): BucketState {
    const nowMs = this.clock.now();
    let bucket = this.buckets.get(target);
    if (bucket === undefined) {
      bucket = {
        tokens: this.burst,
        refilledAtMs: nowMs,
        ratePerSec: this.ratePerSec,
        increasedAtMs: nowMs,
        decreasedAtMs: Number.NEGATIVE_INFINITY,
      };
      this.buckets.set(target, bucket);
      return bucket;
    }
    const elapsedMs = Math.max(0, nowMs - bucket.refilledAtMs);
    bucket.tokens = Math.min(
      this.capacity(bucket.ratePerSec),
      bucket.tokens + (elapsedMs * bucket.ratePerSec) / 1_000,
    );
    bucket.refilledAtMs = Math.max(nowMs, bucket.refilledAtMs);
    return bucket;
  }
}

function requireRange(name: string, value: number, ok: boolean): void {
  if (!(Number.isFinite(value) && ok)) {
    throw new RangeError(`TokenBucketRateLimiter: ${name} is out of range, got ${value}`);
  }
}
