import { describe, expect, it } from 'vitest';
import { RedisFallback } from './redis-fallback.ts';
import { manualClock, recordingLogger } from './test-redis.ts';

const never = () => new Promise<string>(() => {});
const refused = () => Promise.reject(new Error('connect ECONNREFUSED'));

describe('RedisFallback', () => {
  it('answers from Redis while Redis answers', async () => {
    const fallback = new RedisFallback('test');
    expect(
      await fallback.run(
        'op',
        async () => 'redis',
        () => 'local',
      ),
    ).toBe('redis');
    expect(fallback.degraded).toBe(false);
  });

  it('answers from this process when Redis fails, and when it is too slow, within the operation timeout', async () => {
    const fallback = new RedisFallback('test', { operationTimeoutMs: 50 });
    expect(await fallback.run('op', refused, () => 'local')).toBe('local');
    const fresh = new RedisFallback('test', { operationTimeoutMs: 50 });
    const startedAtMs = performance.now();
    expect(await fresh.run('op', never, () => 'local')).toBe('local');
    expect(performance.now() - startedAtMs).toBeLessThan(1_000);
  });

  it('leaves Redis alone for a while after a failure, then goes back to it; says so once each way', async () => {
    const clock = manualClock(0);
    const logger = recordingLogger();
    const fallback = new RedisFallback('circuit store', { clock, logger, retryRedisAfterMs: 1_000 });
    let remoteCalls = 0;
    const down = () => {
      remoteCalls++;
      return refused();
    };
    for (let i = 0; i < 5; i++) expect(await fallback.run('op', down, () => 'local')).toBe('local');
    expect(remoteCalls).toBe(1);
    expect(fallback.degraded).toBe(true);

    clock.t = 1_000;
    expect(await fallback.run('op', down, () => 'local')).toBe('local');
    expect(remoteCalls).toBe(2);

    clock.t = 2_500;
    expect(
      await fallback.run(
        'op',
        async () => 'redis',
        () => 'local',
      ),
    ).toBe('redis');
    expect(fallback.degraded).toBe(false);
    expect(logger.lines).toEqual([
      {
        level: 'warn',
        message:
          "Redis unavailable for the fleet circuit store (connect ECONNREFUSED); using this process's state until it answers",
      },
      { level: 'info', message: 'Redis answers again after 2.5s; the fleet circuit store is shared again' },
    ]);
  });

  it('rejects bounds out of range', () => {
    expect(() => new RedisFallback('test', { operationTimeoutMs: -1 })).toThrow(/operationTimeoutMs/);
  });
});
