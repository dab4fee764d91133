import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { RedisRetryBudget, type RedisRetryBudgetOptions } from './redis-retry-budget.ts';
import { patientRedis, useTwoFleetClients } from './test-redis.ts';

let first: Redis;
let second: Redis;
let prefix: string;
useTwoFleetClients(
  'budget',
  (clients) => {
    ({ first, second } = clients);
  },
  (next) => {
    prefix = next;
  },
);

function twoProcesses(options: Partial<RedisRetryBudgetOptions> = {}) {
  const budget = (redis: Redis) =>
    new RedisRetryBudget({
      redis,
      prefix,
      operationTimeoutMs: patientRedis.operationTimeoutMs,
      // A year-long window (windows start at multiples of it since the epoch), so that a test never
      // straddles a window boundary, which would weigh the requests counted before it a little less.
      windowMs: 365 * 24 * 3_600_000,
      ...options,
    });
  return { a: budget(first), b: budget(second) };
}

/** Many retries asked for at once from both processes; how many were granted. */
async function grantedConcurrently(a: RedisRetryBudget, b: RedisRetryBudget, target: string, tries: number) {
  const answers = await Promise.all(
    Array.from({ length: tries }, (_, i) => (i % 2 === 0 ? a : b).tryRetry(target)),
  );
  return answers.filter(Boolean).length;
}

describe('RedisRetryBudget', () => {
  it('shares the floor across the fleet: three retries in all with no requests', async () => {
    const { a, b } = twoProcesses();
    expect(await grantedConcurrently(a, b, 'llm', 50)).toBe(3);
  });

  it('grants retries up to 20% of the fleet’s requests, counted from every process', async () => {
    const { a, b } = twoProcesses();
    await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? a : b).recordRequest('llm')));
    expect(await grantedConcurrently(a, b, 'llm', 200)).toBe(20);
    expect(await grantedConcurrently(a, b, 'github:installation:1', 50)).toBe(3);
  });

  it('keeps its counters under a key that expires two windows after the last call', async () => {
    const { a } = twoProcesses({ windowMs: 10_000 });
    await a.recordRequest('llm');
    const ttlMs = await first.pttl(`${prefix}:fleet:budget:llm`);
    expect(ttlMs).toBeGreaterThan(15_000);
    expect(ttlMs).toBeLessThanOrEqual(20_000);
    expect(a.windowMs).toBe(10_000);
  });

  it('forgets the previous window as the window slides on', async () => {
    const { a, b } = twoProcesses({ windowMs: 200, minRetriesPerWindow: 0, ratio: 0.5 });
    for (let i = 0; i < 10; i++) await a.recordRequest('llm');
    expect(await grantedConcurrently(a, b, 'llm', 20)).toBeGreaterThanOrEqual(1);
    // Two windows on, neither the requests nor the retries count any more.
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect(await grantedConcurrently(a, b, 'llm', 20)).toBe(0);
  });
});
