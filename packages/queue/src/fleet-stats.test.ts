import { type RedisHandle, startRedis, uniquePrefix } from '@runner/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetStats } from './fleet-stats.ts';

let server: RedisHandle;
let redis: Redis;

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

describe('FleetStats.jobsTotal', () => {
  it("adds BullMQ's count of completed jobs to the completions earlier workers counted themselves", async () => {
    const stats = new FleetStats(redis, uniquePrefix('stats'));
    // Workers before 2026-11-26 counted every completion in the hash; workers now leave it to BullMQ.
    await redis.hincrby(stats.jobsTotalKey(), 'completed', 3);
    await redis.hset(stats.completedMetricsKey(), 'count', '2');
    await stats.countJob('requeued');
    expect(await stats.jobsTotal()).toEqual({
      completed: 5,
      failed: 0,
      requeued: 1,
      delayed: 0,
      dead_lettered: 0,
    });
  });
});
