import { CircuitBreaker, CircuitOpenError, InMemoryRetryBudget } from '@runner/retry';
import { startRedis, uniquePrefix } from '@runner/testkit';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { RedisCircuitStore } from './redis-circuit-store.ts';
import { RedisCooldownStore } from './redis-cooldown-store.ts';
import { RedisRateLimiter } from './redis-rate-limiter.ts';
import { RedisRetryBudget } from './redis-retry-budget.ts';
import { connectFleetClient, recordingLogger } from './test-redis.ts';

const unavailable = () => Object.assign(new Error('HTTP 503'), { status: 503 });

/** Every primitive on one client, as a worker would have them. */
function fleetOn(redis: Redis, prefix: string, retryRedisAfterMs = 1_000) {
  const logger = recordingLogger();
  const shared = { redis, prefix, logger, operationTimeoutMs: 200, retryRedisAfterMs };
  return {
    logger,
    breaker: new CircuitBreaker({
      name: 'llm',
      failureThreshold: 3,
      cooldownMs: 60_000,
      store: new RedisCircuitStore(shared),
    }),
    cooldowns: new RedisCooldownStore(shared),
    budget: new RedisRetryBudget({
      ...shared,
      // This process's own budget on a still clock: a window boundary between counting the requests and
      // spending the retries would shrink the 10 retries they earn.
      fallback: new InMemoryRetryBudget({ clock: { now: () => 1_000 } }),
    }),
    limiter: new RedisRateLimiter({ ...shared, ratePerSec: 1_000, adaptive: true }),
  };
}

/** Resolves with how long `operation` took; a hang fails the test by its own timeout first. */
async function timed(operation: () => Promise<unknown>): Promise<number> {
  const startedAtMs = performance.now();
  await operation();
  return performance.now() - startedAtMs;
}

describe('the fleet when Redis goes away', () => {
  it('keeps working on per-process state, without throwing or hanging, and keeps what it knew', {
    timeout: 20_000,
  }, async () => {
    const server = await startRedis({ forcePrivate: true });
    const redis = await connectFleetClient(server.url);
    const prefix = uniquePrefix('outage');
    const fleet = fleetOn(redis, prefix);
    try {
      const cooldownUntilMs = Date.now() + 60_000;
      await fleet.cooldowns.hold('github:installation:1', cooldownUntilMs);
      for (let i = 0; i < 3; i++)
        await fleet.breaker.execute(async () => Promise.reject(unavailable())).catch(() => {});
      for (let i = 0; i < 50; i++) await fleet.budget.recordRequest('llm');
      expect(fleet.logger.lines).toEqual([]);

      await server.stop();

      const durationsMs = [
        // What the fleet said before the outage still holds here.
        await timed(async () =>
          expect(await fleet.cooldowns.until('github:installation:1')).toBe(cooldownUntilMs),
        ),
        await timed(() =>
          expect(fleet.breaker.execute(async () => 'x')).rejects.toBeInstanceOf(CircuitOpenError),
        ),
        await timed(async () => expect(await fleet.breaker.state()).toBe('open')),
        // New state lives in this process.
        await timed(() => fleet.cooldowns.hold('llm', Date.now() + 30_000)),
        await timed(async () => expect(await fleet.cooldowns.until('llm')).toBeGreaterThan(Date.now())),
        // This process's 50 requests earn it 10 retries.
        await timed(async () => {
          let granted = 0;
          for (let i = 0; i < 20; i++) if (await fleet.budget.tryRetry('llm')) granted++;
          expect(granted).toBe(10);
        }),
        await timed(() => fleet.budget.recordRequest('llm')),
        await timed(() => fleet.limiter.acquire('llm')),
        await timed(() => fleet.limiter.onThrottled('llm')),
        await timed(async () => expect(await fleet.limiter.currentRatePerSec('llm')).toBe(500)),
      ];
      for (const durationMs of durationsMs) expect(durationMs).toBeLessThan(1_000);
      // One warning per component and outage, however many calls fell back.
      const warnings = fleet.logger.lines.filter((line) => line.level === 'warn').map((line) => line.message);
      expect(warnings).toHaveLength(4);
      expect(warnings.map((message) => message.match(/the fleet ([a-z ]+) \(/)?.[1]).sort()).toEqual([
        'circuit store',
        'cooldown store',
        'rate limiter',
        'retry budget',
      ]);
    } finally {
      redis.disconnect();
      await server.stop();
    }
  });

  it('falls back within the operation timeout while Redis is slow, and shares again once it answers', {
    timeout: 20_000,
  }, async () => {
    const server = await startRedis({ forcePrivate: true });
    const first = await connectFleetClient(server.url);
    const second = await connectFleetClient(server.url);
    const admin = new Redis(server.url);
    const prefix = uniquePrefix('slow');
    const a = fleetOn(first, prefix, 100);
    const b = fleetOn(second, prefix, 100);
    try {
      // Every client's commands wait for 1.5 s: a Redis that is up but does not answer in time.
      await admin.call('CLIENT', 'PAUSE', '1500', 'ALL');
      const pausedAtMs = performance.now();
      expect(await timed(() => a.cooldowns.hold('llm', Date.now() + 60_000))).toBeLessThan(1_000);
      expect(await timed(() => a.budget.recordRequest('llm'))).toBeLessThan(1_000);
      expect(await timed(() => b.limiter.acquire('llm'))).toBeLessThan(1_000);
      expect(a.logger.lines.map((line) => line.level)).toEqual(['warn', 'warn']);

      // Once Redis answers again, the next call after `retryRedisAfterMs` goes back to it.
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, 1_700 - (performance.now() - pausedAtMs))),
      );
      const untilMs = Date.now() + 45_000;
      await a.cooldowns.hold('github:installation:7', untilMs);
      expect(await b.cooldowns.until('github:installation:7')).toBe(untilMs);
      for (let i = 0; i < 3; i++)
        await a.breaker.execute(async () => Promise.reject(unavailable())).catch(() => {});
      expect(await b.breaker.state()).toBe('open');
      expect(a.logger.lines.filter((line) => line.level === 'info').map((line) => line.message)).toEqual([
        expect.stringMatching(/^Redis answers again after .*; the fleet cooldown store is shared again$/),
      ]);
    } finally {
      first.disconnect();
      second.disconnect();
      admin.disconnect();
      await server.stop();
    }
  });
});
