import { type RedisHandle, startRedis, uniquePrefix } from '@runner/testkit';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { RedisCooldownStore } from './redis-cooldown-store.ts';
import { connectFleetClient, deleteKeys, patientRedis } from './test-redis.ts';

let server: RedisHandle;
let first: Redis;
let second: Redis;
let prefix: string;
beforeAll(async () => {
  server = await startRedis();
  first = await connectFleetClient(server.url, patientRedis.commandTimeoutMs);
  second = await connectFleetClient(server.url, patientRedis.commandTimeoutMs);
});
beforeEach(() => {
  prefix = uniquePrefix('cooldown');
});
afterEach(async () => {
  await deleteKeys(first, prefix);
});
afterAll(async () => {
  first.disconnect();
  second.disconnect();
  await server.stop();
});

const store = (redis: Redis) =>
  new RedisCooldownStore({ redis, prefix, operationTimeoutMs: patientRedis.operationTimeoutMs });

describe('RedisCooldownStore', () => {
  it('holds every process when one hears the limit, and keeps the later time', async () => {
    const a = store(first);
    const b = store(second);
    const untilMs = Date.now() + 60_000;
    expect(await b.until('github:installation:1')).toBeUndefined();
    await a.hold('github:installation:1', untilMs);
    expect(await b.until('github:installation:1')).toBe(untilMs);
    expect(await b.until('github:installation:2')).toBeUndefined();

    // A shorter hint heard later by another process does not cut the first short.
    await b.hold('github:installation:1', untilMs - 30_000);
    expect(await a.until('github:installation:1')).toBe(untilMs);
    await b.hold('github:installation:1', untilMs + 5_000);
    expect(await a.until('github:installation:1')).toBe(untilMs + 5_000);
  });

  it('lets the key expire at the held time, so nothing is left behind', async () => {
    const a = store(first);
    const untilMs = Date.now() + 300;
    await a.hold('llm', untilMs);
    const ttlMs = await first.pttl(`${prefix}:fleet:cooldown:llm`);
    expect(ttlMs).toBeGreaterThan(0);
    expect(ttlMs).toBeLessThanOrEqual(300);
    await vi.waitFor(async () => expect(await first.exists(`${prefix}:fleet:cooldown:llm`)).toBe(0), {
      timeout: 2_000,
    });
    expect(await store(second).until('llm')).toBeUndefined();
  });

  it('ignores a time already past', async () => {
    await store(first).hold('llm', Date.now() - 1_000);
    expect(await first.exists(`${prefix}:fleet:cooldown:llm`)).toBe(0);
  });
});
