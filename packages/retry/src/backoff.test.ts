import { describe, expect, it } from 'vitest';
import { type BackoffOptions, backoffDelayMs, exponentialCapMs, type Jitter } from './backoff.ts';
import { seededRandom } from './random.ts';

const base: BackoffOptions = { initialDelayMs: 1_000, maxDelayMs: 60_000, multiplier: 2, jitter: 'none' };

describe('exponentialCapMs', () => {
  it('grows as initialDelay * multiplier^retry and stops at maxDelay', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((r) => exponentialCapMs(r, base))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000,
    ]);
  });

  it('stays at the cap when the power overflows', () => {
    expect(exponentialCapMs(5_000, base)).toBe(60_000);
  });
});

describe('backoffDelayMs', () => {
  const jitters: Jitter[] = ['full', 'equal', 'decorrelated', 'none'];

  it.each(jitters)('%s jitter stays within [0, maxDelay] for thousands of random draws', (jitter) => {
    const random = seededRandom(42);
    for (let draw = 0; draw < 5_000; draw++) {
      const options: BackoffOptions = {
        initialDelayMs: 1 + Math.floor(random() * 5_000),
        maxDelayMs: 1 + Math.floor(random() * 120_000),
        multiplier: 1 + random() * 3,
        jitter,
      };
      const retry = Math.floor(random() * 40);
      const previous = random() * options.maxDelayMs;
      const delay = backoffDelayMs(retry, options, random, previous);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(options.maxDelayMs);
    }
  });

  it('full jitter draws uniformly in [0, cap]', () => {
    const options = { ...base, jitter: 'full' as const };
    expect(backoffDelayMs(2, options, () => 0)).toBe(0);
    expect(backoffDelayMs(2, options, () => 0.5)).toBe(2_000);
    expect(backoffDelayMs(2, options, () => 0.999_999)).toBeCloseTo(4_000, 0);
  });

  it('equal jitter keeps at least half the cap', () => {
    const options = { ...base, jitter: 'equal' as const };
    expect(backoffDelayMs(3, options, () => 0)).toBe(4_000);
    expect(backoffDelayMs(3, options, () => 0.5)).toBe(6_000);
  });

  it('decorrelated jitter draws between initialDelay and three times the previous delay', () => {
    const options = { ...base, jitter: 'decorrelated' as const };
    expect(backoffDelayMs(0, options, () => 0, 5_000)).toBe(1_000);
    expect(backoffDelayMs(0, options, () => 0.5, 5_000)).toBe(8_000);
    expect(backoffDelayMs(0, options, () => 0.999_999, 50_000)).toBe(60_000);
    expect(backoffDelayMs(0, options, () => 0.5)).toBe(2_000);
  });

  it('full jitter spreads the delays of many clients over the whole range', () => {
    const random = seededRandom(7);
    const options = { ...base, jitter: 'full' as const };
    const delays = Array.from({ length: 1_000 }, () => backoffDelayMs(3, options, random));
    const buckets = [0, 0, 0, 0];
    for (const delay of delays) buckets[Math.min(3, Math.floor(delay / 2_000))]! += 1;
    for (const count of buckets) expect(count).toBeGreaterThan(200);
  });
});
