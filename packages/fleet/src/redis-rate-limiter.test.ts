import { sleep } from '@runner/retry';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { RedisRateLimiter, type RedisRateLimiterOptions } from './redis-rate-limiter.ts';
import { patientRedis, useTwoFleetClients } from './test-redis.ts';

let first: Redis;
let second: Redis;
let prefix: string;
useTwoFleetClients(
  'rate',
  (clients) => {
    ({ first, second } = clients);
  },
  (next) => {
    prefix = next;
  },
);

function twoProcesses(options: Omit<RedisRateLimiterOptions, 'redis' | 'prefix'>) {
  const limiter = (redis: Redis) =>
    new RedisRateLimiter({ redis, prefix, operationTimeoutMs: patientRedis.operationTimeoutMs, ...options });
  return { a: limiter(first), b: limiter(second) };
}

describe('RedisRateLimiter', () => {
  it('keeps both processes together under one quota: burst + rate × time', async () => {
    const { a, b } = twoProcesses({ ratePerSec: 40, burst: 4 });
    const startedAtMs = performance.now();
    const grantedAtMs: number[] = [];
    await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        (i % 2 === 0 ? a : b).acquire('llm').then(() => grantedAtMs.push(performance.now() - startedAtMs)),
      ),
    );
    grantedAtMs.sort((x, y) => x - y);
    // The n-th grant (0-based) past the burst cannot come before (n + 1 - burst) / rate seconds.
    for (const [n, atMs] of grantedAtMs.entries()) {
      expect(atMs).toBeGreaterThanOrEqual(((n + 1 - 4) * 1_000) / 40 - 5);
    }
    expect(grantedAtMs.at(-1)).toBeGreaterThanOrEqual(((24 - 4) * 1_000) / 40 - 5);
  });

  it('hands tokens out in the order processes ask: one the scheduler wakes late keeps its share', async () => {
    const ratePerSec = 20;
    const limiter = (redis: Redis, lateMs: number) =>
      new RedisRateLimiter({
        redis,
        prefix,
        operationTimeoutMs: patientRedis.operationTimeoutMs,
        ratePerSec,
        burst: 1,
        // Every wake-up of this process comes `lateMs` after the token it waited for was due.
        sleep: (ms, signal) => sleep(ms + lateMs, signal),
      });
    const late = limiter(first, 30);
    const prompt = limiter(second, 0);
    const grants = { late: 0, prompt: 0 };
    const stopAtMs = performance.now() + 600;
    const keepAsking = async (process: RedisRateLimiter, name: keyof typeof grants) => {
      while (performance.now() < stopAtMs) {
        await process.acquire('llm');
        grants[name] += 1;
      }
    };
    await Promise.all([keepAsking(late, 'late'), keepAsking(prompt, 'prompt')]);
    // 13 tokens in 0.6 s (the burst, then one per 50 ms); a race for each due token would give nearly
    // all of them to the prompt process.
    expect(grants.late + grants.prompt).toBeLessThanOrEqual(1 + 0.7 * ratePerSec);
    expect(grants.late).toBeGreaterThanOrEqual(5);
  });

  it('adaptive: one process’s 429 lowers the rate for all, and successes raise it again', async () => {
    const { a, b } = twoProcesses({ ratePerSec: 10, adaptive: true, increasePerSec: 5 });
    expect(await b.currentRatePerSec('llm')).toBe(10);
    await a.onThrottled('llm');
    expect(await b.currentRatePerSec('llm')).toBe(5);
    // The 429s of calls already in flight count once.
    await b.onThrottled('llm');
    expect(await a.currentRatePerSec('llm')).toBe(5);

    await new Promise((resolve) => setTimeout(resolve, 200));
    await b.onSuccess('llm');
    const raised = await a.currentRatePerSec('llm');
    expect(raised).toBeGreaterThan(5.5);
    expect(raised).toBeLessThan(10);
  });

  it('holds the fleet’s bucket until one process’s 429 hint, then hands tokens out at the rate', async () => {
    const { a, b } = twoProcesses({ ratePerSec: 20, burst: 10 });
    const heldUntilMs = Date.now() + 300;
    await a.onThrottled('llm', heldUntilMs);
    await b.acquire('llm');
    // Not before the hint, and then one token's worth later: the bucket was emptied, not just paused.
    expect(Date.now()).toBeGreaterThanOrEqual(heldUntilMs + 50 - 5);
    await expect(
      a.acquire('llm', AbortSignal.timeout(20)).then(
        () => 'granted',
        () => 'still waiting',
      ),
    ).resolves.toBe('still waiting');
  });

  it('gives up a wait at once when aborted, and lets the next caller in', async () => {
    const { a, b } = twoProcesses({ ratePerSec: 2, burst: 1 });
    await a.acquire('llm');
    const controller = new AbortController();
    const waiting = a.acquire('llm', controller.signal).catch((e: unknown) => e);
    const queued = a.acquire('llm');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const abortedAtMs = performance.now();
    controller.abort(new Error('no longer needed'));
    expect(((await waiting) as Error).message).toBe('no longer needed');
    expect(performance.now() - abortedAtMs).toBeLessThan(50);
    await queued;
    // The fleet's one token per 500 ms went to the queued caller.
    expect(await first.exists(`${prefix}:fleet:rate:llm`)).toBe(1);
    await expect(
      b.acquire('llm', AbortSignal.timeout(100)).then(
        () => 'granted',
        () => 'still waiting',
      ),
    ).resolves.toBe('still waiting');
  });
});
