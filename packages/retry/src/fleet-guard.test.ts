import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { classifyError } from './classify-error.ts';
import { InMemoryCooldownStore } from './cooldown.ts';
import { RetryAfterTooLongError } from './errors.ts';
import { FleetGuard } from './fleet-guard.ts';
import { TokenBucketRateLimiter } from './rate-limiter.ts';
import { InMemoryRetryBudget, RetryBudgetExhaustedError } from './retry-budget.ts';
import { retryWithBackoff } from './retry-with-backoff.ts';

const rateLimited = (seconds: number) =>
  Object.assign(new Error('HTTP 429'), { status: 429, headers: { 'retry-after': String(seconds) } });
const unavailable = () => Object.assign(new Error('HTTP 503'), { status: 503 });
const policy = {
  maxRetries: 5,
  initialDelayMs: 100,
  maxDelayMs: 10_000,
  multiplier: 2,
  jitter: 'none' as const,
};

describe('FleetGuard', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A call through the guard, as a client makes it. */
  async function call(guard: FleetGuard, fn: () => Promise<string>) {
    const fleet = await guard.forCall<string>('llm', policy.maxDelayMs);
    return retryWithBackoff(() => fleet.observe(fn), {
      ...policy,
      pace: fleet.pace,
      beforeRetry: fleet.beforeRetry,
    });
  }

  it('holds every caller back once one has heard a 429 with Retry-After', async () => {
    const cooldowns = new InMemoryCooldownStore();
    const first = new FleetGuard({ cooldowns });
    const second = new FleetGuard({ cooldowns });
    const sentAt: number[] = [];
    let calls = 0;
    const upstream = async () => {
      sentAt.push(Date.now());
      if (calls++ === 0) throw rateLimited(3);
      return 'ok';
    };
    const a = call(first, upstream);
    await vi.advanceTimersByTimeAsync(10);
    // Another process's call, made while the cooldown holds: it waits instead of hearing its own 429.
    const b = call(second, upstream);
    await vi.runAllTimersAsync();
    await expect(Promise.all([a, b])).resolves.toEqual(['ok', 'ok']);
    expect(sentAt).toEqual([0, 3_000, 3_000]);
  });

  it('ends a call at once with the time when the cooldown is longer than the layer waits', async () => {
    const cooldowns = new InMemoryCooldownStore();
    await cooldowns.hold('llm', 60_000);
    const outcome = call(new FleetGuard({ cooldowns }), async () => 'never').catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    const error = (await outcome) as RetryAfterTooLongError;
    expect(error).toBeInstanceOf(RetryAfterTooLongError);
    expect(error.retryAt?.getTime()).toBe(60_000);
  });

  it('stops retrying when the shared budget is spent, handing the call to the job level with a time', async () => {
    const budget = new InMemoryRetryBudget({ ratio: 0.2, minRetriesPerWindow: 2, windowMs: 10_000 });
    const guard = new FleetGuard({ budget });
    let attempts = 0;
    const outcome = call(guard, async () => {
      attempts++;
      throw unavailable();
    }).catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    const error = (await outcome) as RetryBudgetExhaustedError;
    expect(error).toBeInstanceOf(RetryBudgetExhaustedError);
    expect(error.retryable).toBe(true);
    expect(error.retryAt).toBeInstanceOf(Date);
    // One call, a floor of 2 retries in the window: 3 attempts instead of the policy's 6.
    expect(attempts).toBe(3);
  });

  it("reads failures with the client's classifier: a throttle it names holds the fleet and slows the limiter", async () => {
    const cooldowns = new InMemoryCooldownStore();
    const throttled: string[] = [];
    const limiter = {
      acquire: async () => {},
      onThrottled: (t: string) => void throttled.push(t),
      onSuccess: () => {},
    };
    // A 403 without hint headers, which only the client knows to be a rate limit worth 60 s.
    const secondaryLimit = Object.assign(new Error('secondary rate limit'), { status: 403 });
    const guard = new FleetGuard({
      cooldowns,
      limiter,
      classify: (error, nowMs) =>
        error === secondaryLimit
          ? { retryable: true, reason: 'HTTP 403 secondary rate limit', status: 403, retryAfterMs: 60_000 }
          : classifyError(error, nowMs),
    });
    const fleet = await guard.forCall<string>('github:installation:1', policy.maxDelayMs);
    await expect(fleet.observe(() => Promise.reject(secondaryLimit))).rejects.toBe(secondaryLimit);
    expect(await cooldowns.until('github:installation:1')).toBe(60_000);
    expect(throttled).toEqual(['github:installation:1']);

    // Without the client's classifier the same 403 is a plain refusal: no hold, no throttle.
    const plain = new FleetGuard({ cooldowns: new InMemoryCooldownStore(), limiter });
    const other = await plain.forCall<string>('github:installation:2', policy.maxDelayMs);
    await expect(other.observe(() => Promise.reject(secondaryLimit))).rejects.toBe(secondaryLimit);
    expect(throttled).toEqual(['github:installation:1']);
  });

  it('feeds a 429’s hint to the limiter: after the hold, callers go one by one, not all at once', async () => {
    const cooldowns = new InMemoryCooldownStore();
    const limiter = new TokenBucketRateLimiter({ ratePerSec: 10, burst: 10 });
    const guards = [new FleetGuard({ cooldowns, limiter }), new FleetGuard({ cooldowns, limiter })];
    const sentAt: number[] = [];
    const upstream = async () => {
      sentAt.push(Date.now());
      if (sentAt.length === 1) throw rateLimited(1);
      return 'ok';
    };
    const first = call(guards[0] as FleetGuard, upstream);
    await vi.advanceTimersByTimeAsync(10);
    const others = Array.from({ length: 4 }, (_, i) => call(guards[i % 2] as FleetGuard, upstream));
    await vi.runAllTimersAsync();
    await Promise.all([first, ...others]);
    // A full bucket of 10 would have let all four out at 1 s with the retry; the hold emptied it.
    expect(sentAt).toEqual([0, 1_100, 1_200, 1_300, 1_400, 1_500]);
  });

  it('does not spend the retry budget on 429s that the limiter paces', async () => {
    const budget = new InMemoryRetryBudget({ ratio: 0, minRetriesPerWindow: 0, windowMs: 10_000 });
    const limiter = new TokenBucketRateLimiter({ ratePerSec: 10 });
    let attempts = 0;
    const outcome = call(new FleetGuard({ budget, limiter }), async () => {
      attempts++;
      if (attempts < 3) throw rateLimited(1);
      return 'ok';
    });
    await vi.runAllTimersAsync();
    await expect(outcome).resolves.toBe('ok');
    expect(attempts).toBe(3);
    // A 503 is not paced by anyone: the same empty budget stops it after its first attempt.
    const refused = call(new FleetGuard({ budget, limiter }), async () => {
      throw unavailable();
    }).catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    expect(await refused).toBeInstanceOf(RetryBudgetExhaustedError);
  });
});
