import { CircuitBreaker } from '@runner/retry';
import { type RedisClusterHandle, redisClusterUnavailable, startRedisCluster } from '@runner/testkit';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetKey } from './fleet-redis.ts';
import { LuaScript } from './internal/lua-script.ts';
import { RedisCircuitStore } from './redis-circuit-store.ts';
import { RedisCooldownStore } from './redis-cooldown-store.ts';
import { RedisRateLimiter } from './redis-rate-limiter.ts';
import { RedisRetryBudget } from './redis-retry-budget.ts';
import { manualClock, patientRedis, recordingLogger } from './test-redis.ts';

const unavailable = await redisClusterUnavailable();
if (unavailable !== undefined) console.warn(`Skipping the fleet's Redis Cluster tests: ${unavailable}`);

const prefix = '{fleet-test}';
let cluster: RedisClusterHandle | undefined;
let client: Cluster;
beforeAll(async () => {
  if (unavailable !== undefined) return;
  cluster = await startRedisCluster();
  // As the worker makes its fleet client: fail fast, no offline queue once connected.
  client = new Cluster([...cluster.nodes], {
    enableOfflineQueue: false,
    redisOptions: { maxRetriesPerRequest: 1, commandTimeout: patientRedis.commandTimeoutMs },
  });
  await new Promise((resolve) => client.once('ready', resolve));
}, 30_000);
afterAll(async () => {
  client?.disconnect();
  await cluster?.stop();
});

describe.skipIf(unavailable !== undefined)('the fleet stores on a Redis Cluster', () => {
  it('share a cooldown, a circuit, a retry budget and a rate limit, on Redis rather than in memory', async () => {
    const logger = recordingLogger();
    const options = { redis: client, prefix, logger, operationTimeoutMs: patientRedis.operationTimeoutMs };

    const cooldowns = new RedisCooldownStore(options);
    const untilMs = Date.now() + 60_000;
    await cooldowns.hold('llm', untilMs);
    // Another process's store, with a memory of its own, reads it from the cluster.
    expect(await new RedisCooldownStore(options).until('llm')).toBe(Math.ceil(untilMs));

    const breaker = new CircuitBreaker({
      name: 'llm',
      failureThreshold: 2,
      cooldownMs: 10_000,
      clock: manualClock(1_000_000),
      store: new RedisCircuitStore(options),
    });
    for (let i = 0; i < 2; i++) {
      await breaker
        .execute(async () => Promise.reject(Object.assign(new Error('HTTP 503'), { status: 503 })))
        .catch(() => {});
    }
    expect(
      JSON.parse((await client.hget(fleetKey(prefix, 'circuit', 'llm'), 'snapshot')) ?? '{}'),
    ).toMatchObject({
      state: 'open',
    });

    const budget = new RedisRetryBudget({ ...options, ratio: 0, minRetriesPerWindow: 2 });
    await budget.recordRequest('llm');
    const tries = [await budget.tryRetry('llm'), await budget.tryRetry('llm'), await budget.tryRetry('llm')];
    expect(tries).toEqual([true, true, false]);

    const limiter = new RedisRateLimiter({ ...options, ratePerSec: 1, burst: 1 });
    await limiter.acquire('llm');
    expect(await client.hget(fleetKey(prefix, 'rate', 'llm'), 'tokens')).toBe('0');

    // No store fell back to its process's own state.
    expect(logger.lines).toEqual([]);
  });

  it('sends a script in full to the node that has forgotten it (each master keeps its own scripts)', async () => {
    const script = new LuaScript(`return redis.call('INCRBY', KEYS[1], ARGV[1])`);
    const key = `${prefix}:counter`;
    expect(await script.run(client, [key], [2])).toBe(2);
    await Promise.all(client.nodes('master').map((node) => node.script('FLUSH')));
    expect(await script.run(client, [key], [3])).toBe(5);
  });
});
