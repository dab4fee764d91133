import { describe, expect, it } from 'vitest';
import { classifyError } from './classify-error.ts';
import type { Clock } from './clock.ts';
import {
  InMemoryRetryBudget,
  isRetryBudgetExhaustedError,
  RetryBudgetExhaustedError,
} from './retry-budget.ts';

function manualClock(t: number) {
  return {
    t,
    now() {
      return this.t;
    },
  } satisfies Clock & { t: number };
}

async function retriesAllowed(budget: InMemoryRetryBudget, target: string, tries = 1_000): Promise<number> {
  let allowed = 0;
  for (let i = 0; i < tries; i++) if (await budget.tryRetry(target)) allowed++;
  return allowed;
}

describe('InMemoryRetryBudget', () => {
  it('allows the floor of retries with no requests, and no more', async () => {
    const budget = new InMemoryRetryBudget({ clock: manualClock(0) });
    expect(await retriesAllowed(budget, 'llm')).toBe(3);
  });

  it('allows retries up to the ratio of requests when that is above the floor', async () => {
    const budget = new InMemoryRetryBudget({ ratio: 0.2, minRetriesPerWindow: 3, clock: manualClock(0) });
    for (let i = 0; i < 100; i++) await budget.recordRequest('llm');
    expect(await retriesAllowed(budget, 'llm')).toBe(20);
    // Each request earns a fifth of a retry.
    for (let i = 0; i < 10; i++) await budget.recordRequest('llm');
    expect(await retriesAllowed(budget, 'llm')).toBe(2);
  });

  it('keeps one budget per target', async () => {
    const budget = new InMemoryRetryBudget({ clock: manualClock(0) });
    for (let i = 0; i < 50; i++) await budget.recordRequest('llm');
    expect(await retriesAllowed(budget, 'llm')).toBe(10);
    expect(await retriesAllowed(budget, 'github:1')).toBe(3);
  });

  it('frees the budget as the window slides on, the previous window fading out', async () => {
    const clock = manualClock(0);
    const budget = new InMemoryRetryBudget({ windowMs: 10_000, clock });
    for (let i = 0; i < 100; i++) await budget.recordRequest('llm');
    expect(await retriesAllowed(budget, 'llm')).toBe(20);

    // Half-way through the next window half of the last one still counts: 50 requests, 10 retries.
    clock.t = 15_000;
    expect(await retriesAllowed(budget, 'llm')).toBe(0);
    // Two windows on, the old counts are gone and only the floor is left.
    clock.t = 30_000;
    expect(await retriesAllowed(budget, 'llm')).toBe(3);
  });

  it('never allows more than the floor plus the ratio over a window, however calls interleave', async () => {
    const clock = manualClock(0);
    const budget = new InMemoryRetryBudget({ ratio: 0.1, minRetriesPerWindow: 2, windowMs: 1_000, clock });
    let requests = 0;
    let retries = 0;
    for (let step = 0; step < 1_000; step++) {
      clock.t = step;
      await budget.recordRequest('llm');
      requests++;
      if (await budget.tryRetry('llm')) retries++;
    }
    expect(retries).toBeLessThanOrEqual(Math.max(2, 0.1 * requests));
    expect(retries).toBeGreaterThanOrEqual(0.09 * requests);
  });

  it('rejects options out of range', () => {
    expect(() => new InMemoryRetryBudget({ ratio: -0.1 })).toThrow(/ratio/);
    expect(() => new InMemoryRetryBudget({ minRetriesPerWindow: 1.5 })).toThrow(/minRetriesPerWindow/);
    expect(() => new InMemoryRetryBudget({ windowMs: 0 })).toThrow(/windowMs/);
  });
});

describe('RetryBudgetExhaustedError', () => {
  it('is retryable with a time, as classifyError reads it for the job level', () => {
    const nowMs = Date.parse('2030-01-01T00:00:00Z');
    const cause = Object.assign(new Error('HTTP 503'), { status: 503 });
    const error = new RetryBudgetExhaustedError({
      target: 'llm',
      retryAt: new Date(nowMs + 10_000),
      attempts: 2,
      status: 503,
      cause,
    });
    expect(error).toMatchObject({ code: 'retry_budget_exhausted', retryable: true, target: 'llm' });
    expect(error.cause).toBe(cause);
    expect(error.message).toBe('Retry budget for "llm" is spent; try again at 2030-01-01T00:00:10.000Z');
    expect(isRetryBudgetExhaustedError(error)).toBe(true);
    expect(classifyError(error, nowMs)).toEqual({
      retryable: true,
      reason: 'retry budget exhausted',
      status: 503,
      retryAfterMs: 10_000,
    });
  });
});
