import { CircuitBreaker, CircuitOpenError, type CircuitSnapshot } from '@runner/retry';
import type { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { RedisCircuitStore } from './redis-circuit-store.ts';
import { manualClock, patientRedis, useTwoFleetClients } from './test-redis.ts';

const unavailable = () => Object.assign(new Error('HTTP 503'), { status: 503 });

let first: Redis;
let second: Redis;
let prefix: string;
useTwoFleetClients(
  'circuit',
  (clients) => {
    ({ first, second } = clients);
  },
  (next) => {
    prefix = next;
  },
);

/** Two "processes": each its own client, store and breaker, on one Redis and one clock. */
function twoProcesses() {
  const clock = manualClock(1_000_000);
  const breaker = (redis: Redis) =>
    new CircuitBreaker({
      name: 'llm',
      failureThreshold: 3,
      cooldownMs: 10_000,
      clock,
      store: new RedisCircuitStore({ redis, prefix, operationTimeoutMs: patientRedis.operationTimeoutMs }),
    });
  return { clock, a: breaker(first), b: breaker(second) };
}

describe('RedisCircuitStore', () => {
  it('opens the circuit for every process when one sees the failures', async () => {
    const { a, b } = twoProcesses();
    for (let i = 0; i < 3; i++)
      await expect(a.execute(async () => Promise.reject(unavailable()))).rejects.toThrow();
    expect(await b.state()).toBe('open');
    let called = false;
    const error = await b
      .execute(async () => {
        called = true;
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(called).toBe(false);
  });

  it('lets exactly one probe through in half-open across the fleet, and its success closes it for all', async () => {
    const { a, b, clock } = twoProcesses();
    for (let i = 0; i < 3; i++) await b.execute(async () => Promise.reject(unavailable())).catch(() => {});
    clock.t += 10_000;

    let probes = 0;
    let releaseProbe!: () => void;
    const probeDone = new Promise<void>((resolve) => {
      releaseProbe = resolve;
    });
    const call = (breaker: CircuitBreaker) =>
      breaker.execute(async () => {
        probes++;
        await probeDone;
        return 'ok';
      });
    const turnedAway: unknown[] = [];
    const calls = Array.from({ length: 100 }, (_, i) =>
      call(i % 2 === 0 ? a : b).catch((error: unknown) => {
        turnedAway.push(error);
      }),
    );
    await vi.waitFor(() => expect(turnedAway).toHaveLength(99), { timeout: 5_000 });
    expect(probes).toBe(1);
    expect(turnedAway.every((error) => error instanceof CircuitOpenError)).toBe(true);

    releaseProbe();
    await Promise.allSettled(calls);
    expect(await a.state()).toBe('closed');
    expect(await b.state()).toBe('closed');
  });

  it('writes only over the version it read, and expires a circuit nobody writes to', async () => {
    const store = new RedisCircuitStore({ redis: first, prefix, keyTtlMs: 60_000 });
    const snapshot = (version: number): CircuitSnapshot => ({
      state: 'open',
      consecutiveFailures: 5,
      windowStartMs: 0,
      windowRequests: 5,
      windowFailures: 5,
      retryAtMs: 123,
      probeLeaseUntilMs: 0,
      version,
    });
    expect(await store.read('llm')).toBeUndefined();
    expect(await store.compareAndSet('llm', 0, snapshot(1))).toBe(true);
    expect(await store.compareAndSet('llm', 0, snapshot(1))).toBe(false);
    expect(await store.compareAndSet('llm', 1, snapshot(2))).toBe(true);
    expect(await new RedisCircuitStore({ redis: second, prefix }).read('llm')).toEqual(snapshot(2));
    const ttlMs = await first.pttl(`${prefix}:fleet:circuit:llm`);
    expect(ttlMs).toBeGreaterThan(50_000);
    expect(ttlMs).toBeLessThanOrEqual(60_000);
  });

  it('reads a snapshot it cannot parse as a closed circuit at the stored version, so the next write repairs it', async () => {
    await first.hset(`${prefix}:fleet:circuit:llm`, 'version', '4', 'snapshot', 'not json');
    const { a } = twoProcesses();
    expect(await a.state()).toBe('closed');
    for (let i = 0; i < 3; i++) await a.execute(async () => Promise.reject(unavailable())).catch(() => {});
    expect(await a.state()).toBe('open');
  });
});
