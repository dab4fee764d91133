import type { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { RedisCooldownStore } from './redis-cooldown-store.ts';
import { patientRedis, useTwoFleetClients } from './test-redis.ts';

let first: Redis;
let second: Redis;
let prefix: string;
useTwoFleetClients(
  'cooldown',
  (clients) => {
    ({ first, second } = clients);
  },
  (next) => {
    prefix = next;
  },
);

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
