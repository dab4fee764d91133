import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TokenBucketRateLimiter } from './rate-limiter.ts';

describe('TokenBucketRateLimiter', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets a burst through at once, then no more than the rate', async () => {
    const limiter = new TokenBucketRateLimiter({ ratePerSec: 10, burst: 5 });
    const grantedAtMs: number[] = [];
    const calls = Array.from({ length: 40 }, () =>
      limiter.acquire('llm').then(() => grantedAtMs.push(Date.now())),
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(grantedAtMs).toHaveLength(5);

    for (const elapsedMs of [100, 500, 1_000, 2_000, 3_000]) {
      await vi.advanceTimersByTimeAsync(elapsedMs - Date.now());
      // The bound of a token bucket: burst + rate × time.
      expect(grantedAtMs.length).toBeLessThanOrEqual(5 + (10 * elapsedMs) / 1_000);
      expect(grantedAtMs.length).toBeGreaterThanOrEqual(5 + (10 * elapsedMs) / 1_000 - 1);
    }
    await vi.runAllTimersAsync();
    await Promise.all(calls);
    expect(grantedAtMs).toHaveLength(40);
    // Past the burst, grants are 100 ms apart.
    expect(grantedAtMs.at(-1)).toBe(3_500);
  });

  it('holds the bucket until a 429’s hint, then lets waiters out one by one at its rate', async () => {
    const limiter = new TokenBucketRateLimiter({ ratePerSec: 10, burst: 5 });
    limiter.onThrottled('llm', 1_000);
    const grantedAtMs: number[] = [];
    const calls = Array.from({ length: 5 }, () =>
      limiter.acquire('llm').then(() => grantedAtMs.push(Date.now())),
    );
    await vi.advanceTimersByTimeAsync(999);
    // A full bucket would have let all five through at once; none goes before the hint.
    expect(grantedAtMs).toEqual([]);
    await vi.runAllTimersAsync();
    await Promise.all(calls);
    // Out of the hold the bucket is empty: 100 ms apart, not five at once.
    expect(grantedAtMs).toEqual([1_100, 1_200, 1_300, 1_400, 1_500]);
  });

  it('keeps a bucket per target', async () => {
    const limiter = new TokenBucketRateLimiter({ ratePerSec: 1, burst: 1 });
    await limiter.acquire('github:1');
    await limiter.acquire('github:2');
    expect(limiter.tryAcquire('github:1')).toBe(1_000);
    expect(Date.now()).toBe(0);
  });

  it('gives up a wait at once when aborted, and takes no token', async () => {
    const limiter = new TokenBucketRateLimiter({ ratePerSec: 1, burst: 1 });
    await limiter.acquire('llm');
    const controller = new AbortController();
    const waiting = limiter.acquire('llm', controller.signal).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(300);
    controller.abort(new Error('no longer needed'));
    expect(((await waiting) as Error).message).toBe('no longer needed');
    expect(Date.now()).toBe(300);
    // The token due at 1 s is still there for the next caller.
    await vi.advanceTimersByTimeAsync(700);
    expect(limiter.tryAcquire('llm')).toBe(0);
  });

  it('refuses an already aborted signal without waiting', async () => {
    const limiter = new TokenBucketRateLimiter({ ratePerSec: 1 });
    await expect(limiter.acquire('llm', AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
  });

  it('adaptive: halves the rate on throttling, once per interval, down to the floor', async () => {
    const limiter = new TokenBucketRateLimiter({ ratePerSec: 8, adaptive: true, minRatePerSec: 1 });
    limiter.onThrottled('llm');
    expect(limiter.currentRatePerSec('llm')).toBe(4);
    // The 429s of calls already in flight describe the same overload.
    limiter.onThrottled('llm');
    limiter.onThrottled('llm');
    expect(limiter.currentRatePerSec('llm')).toBe(4);
    for (const expected of [2, 1, 1]) {
      await vi.advanceTimersByTimeAsync(1_000);
      limiter.onThrottled('llm');
      expect(limiter.currentRatePerSec('llm')).toBe(expected);
    }
    expect(limiter.currentRatePerSec('github:1')).toBe(8);
  });

  it('adaptive: creeps back up on success, never above the configured rate', async () => {
    const limiter = new TokenBucketRateLimiter({ ratePerSec: 10, adaptive: true, increasePerSec: 0.5 });
    limiter.onThrottled('llm');
    expect(limiter.currentRatePerSec('llm')).toBe(5);
    const rates: number[] = [];
    for (let second = 1; second <= 12; second++) {
      await vi.advanceTimersByTimeAsync(1_000);
      limiter.onSuccess('llm');
      rates.push(limiter.currentRatePerSec('llm'));
    }
    expect(rates.slice(0, 3)).toEqual([5.5, 6, 6.5]);
    expect(rates.at(-1)).toBe(10);
    expect(Math.max(...rates)).toBe(10);
  });

  it('adaptive: an idle spell does not count as success', async () => {
    const limiter = new TokenBucketRateLimiter({ ratePerSec: 10, adaptive: true, increasePerSec: 0.5 });
    limiter.onThrottled('llm');
    await vi.advanceTimersByTimeAsync(60_000);
    limiter.onSuccess('llm');
    expect(limiter.currentRatePerSec('llm')).toBe(5.5);
  });

  it('adaptive: a lowered rate spaces the waiters further apart', async () => {
    const limiter = new TokenBucketRateLimiter({ ratePerSec: 10, burst: 1, adaptive: true });
    await limiter.acquire('llm');
    limiter.onThrottled('llm');
    const grantedAtMs: number[] = [];
    const calls = Array.from({ length: 3 }, () =>
      limiter.acquire('llm').then(() => grantedAtMs.push(Date.now())),
    );
    await vi.runAllTimersAsync();
    await Promise.all(calls);
    expect(grantedAtMs).toEqual([200, 400, 600]);
  });

  it('does not adapt unless asked to', () => {
    const limiter = new TokenBucketRateLimiter({ ratePerSec: 10 });
    limiter.onThrottled('llm');
    expect(limiter.currentRatePerSec('llm')).toBe(10);
  });

  it('rejects options out of range', () => {
    expect(() => new TokenBucketRateLimiter({ ratePerSec: 0 })).toThrow(/ratePerSec/);
    expect(() => new TokenBucketRateLimiter({ ratePerSec: 1, burst: 0.5 })).toThrow(/burst/);
    expect(() => new TokenBucketRateLimiter({ ratePerSec: 1, decreaseFactor: 1 })).toThrow(/decreaseFactor/);
  });
});
