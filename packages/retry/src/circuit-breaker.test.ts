import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.ts';
import { InMemoryCircuitStore } from './circuit-store.ts';
import type { Clock } from './clock.ts';
import { CircuitOpenError } from './errors.ts';

const unavailable = () => Object.assign(new Error('HTTP 503'), { status: 503 });
const notFound = () => Object.assign(new Error('HTTP 404'), { status: 404 });

function setup(options: Partial<CircuitBreakerOptions> = {}) {
  const clock = {
    t: 1_000_000,
    now() {
      return this.t;
    },
  } satisfies Clock & { t: number };
  const changes: string[] = [];
  const breaker = new CircuitBreaker({
    name: 'llm',
    failureThreshold: 5,
    cooldownMs: 10_000,
    clock,
    onStateChange: ({ from, to }) => changes.push(`${from}->${to}`),
    ...options,
  });
  let upstreamCalls = 0;
  const call = (outcome: () => unknown) =>
    breaker.execute(async () => {
      upstreamCalls++;
      const result = outcome();
      if (result instanceof Error) throw result;
      return result;
    });
  return { breaker, clock, changes, call, calls: () => upstreamCalls };
}

describe('CircuitBreaker', () => {
  it('opens after five consecutive retryable failures and then fails fast without calling', async () => {
    const { breaker, call, calls, clock } = setup();
    for (let i = 0; i < 5; i++) await expect(call(unavailable)).rejects.toThrow('HTTP 503');
    expect(await breaker.state()).toBe('open');

    const error = await call(() => 'never').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect((error as CircuitOpenError).retryAt?.getTime()).toBe(clock.t + 10_000);
    expect((error as CircuitOpenError).message).toContain('Circuit "llm" is open; try again at');
    expect(calls()).toBe(5);
  });

  it('resets the count on a success, and does not count errors that show the upstream is up', async () => {
    const { breaker, call } = setup();
    for (let i = 0; i < 4; i++) await call(unavailable).catch(() => {});
    await call(() => 'ok');
    for (let i = 0; i < 4; i++) await call(unavailable).catch(() => {});
    for (let i = 0; i < 10; i++) await call(notFound).catch(() => {});
    expect(await breaker.state()).toBe('closed');
  });

  it('does not count rate limits: a burst of 429s leaves the circuit closed, and breaks a run of failures', async () => {
    const { breaker, call, changes } = setup();
    const rateLimited = () =>
      Object.assign(new Error('HTTP 429'), { status: 429, headers: { 'retry-after': '1' } });
    for (let i = 0; i < 20; i++) await expect(call(rateLimited)).rejects.toThrow('HTTP 429');
    expect(await breaker.state()).toBe('closed');
    for (let i = 0; i < 4; i++) await expect(call(unavailable)).rejects.toThrow('HTTP 503');
    await expect(call(rateLimited)).rejects.toThrow('HTTP 429');
    await expect(call(unavailable)).rejects.toThrow('HTTP 503');
    expect(await breaker.state()).toBe('closed');
    expect(changes).toEqual([]);
  });

  it('reads failures with its classify option, for upstreams with their own dialect', async () => {
    // An upstream that reports its outages as HTTP 200 with an error body, and its quotas as 418.
    const outage = () => Object.assign(new Error('busy'), { body: 'overloaded' });
    const quota = () => Object.assign(new Error('slow down'), { body: 'quota' });
    const { breaker, call } = setup({
      failureThreshold: 2,
      classify: (error) =>
        (error as { body?: string }).body === 'overloaded'
          ? { retryable: true, reason: 'overloaded', status: 503 }
          : { retryable: true, reason: 'quota', status: 429 },
    });
    for (let i = 0; i < 5; i++) await call(quota).catch(() => {});
    expect(await breaker.state()).toBe('closed');
    for (let i = 0; i < 2; i++) await call(outage).catch(() => {});
    expect(await breaker.state()).toBe('open');
  });

  it('lets exactly one probe through after the cool-down, and closes on its success', async () => {
    const { breaker, call, calls, clock, changes } = setup();
    for (let i = 0; i < 5; i++) await call(unavailable).catch(() => {});
    clock.t += 10_000;
    expect(await breaker.state()).toBe('half-open');

    let releaseProbe!: () => void;
    const probe = call(
      () =>
        new Promise((resolve) => {
          releaseProbe = () => resolve('probe ok');
        }),
    );
    const others = await Promise.allSettled([call(() => 'a'), call(() => 'b')]);
    expect(others.every((o) => o.status === 'rejected' && o.reason instanceof CircuitOpenError)).toBe(true);
    expect(calls()).toBe(6);

    await Promise.resolve();
    releaseProbe();
    await expect(probe).resolves.toBeDefined();
    expect(await breaker.state()).toBe('closed');
    await expect(call(() => 'after')).resolves.toBe('after');
    expect(changes).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
  });

  it('opens again for another cool-down when the probe fails', async () => {
    const { breaker, call, clock } = setup();
    for (let i = 0; i < 5; i++) await call(unavailable).catch(() => {});
    clock.t += 10_000;
    await call(unavailable).catch(() => {});
    expect(await breaker.state()).toBe('open');
    const error = (await call(() => 'x').catch((e: unknown) => e)) as CircuitOpenError;
    expect(error.retryAt?.getTime()).toBe(clock.t + 10_000);
  });

  it('frees the probe lease when the probe is abandoned by its caller', async () => {
    const { call, calls, clock } = setup();
    for (let i = 0; i < 5; i++) await call(unavailable).catch(() => {});
    clock.t += 10_000;
    await call(() => new DOMException('aborted', 'AbortError')).catch(() => {});
    await expect(call(() => 'next probe')).resolves.toBe('next probe');
    expect(calls()).toBe(7);
  });

  it('lets another probe through when the first one outlives its lease', async () => {
    const { call, clock } = setup({ probeLeaseMs: 2_000 });
    for (let i = 0; i < 5; i++) await call(unavailable).catch(() => {});
    clock.t += 10_000;
    void call(() => new Promise(() => {}));
    await expect(call(() => 'x')).rejects.toBeInstanceOf(CircuitOpenError);
    clock.t += 2_000;
    await expect(call(() => 'second probe')).resolves.toBe('second probe');
  });

  it('opens on a failure rate over a window when configured', async () => {
    const { breaker, call } = setup({
      failureThreshold: 100,
      failureRate: { threshold: 0.5, windowMs: 60_000, minimumRequests: 10 },
    });
    for (let i = 0; i < 5; i++) {
      await call(() => 'ok');
      await call(unavailable).catch(() => {});
    }
    expect(await breaker.state()).toBe('open');
  });

  it('forgets failures from an earlier window', async () => {
    const { breaker, call, clock } = setup({
      failureThreshold: 100,
      failureRate: { threshold: 0.5, windowMs: 60_000, minimumRequests: 10 },
    });
    for (let i = 0; i < 8; i++) await call(unavailable).catch(() => {});
    clock.t += 60_000;
    for (let i = 0; i < 9; i++) await call(() => 'ok');
    await call(unavailable).catch(() => {});
    expect(await breaker.state()).toBe('closed');
  });

  it('shares its state through the store: a second breaker on the same store sees the circuit open', async () => {
    const store = new InMemoryCircuitStore();
    const first = setup({ store });
    const second = setup({ store });
    for (let i = 0; i < 5; i++) await first.call(unavailable).catch(() => {});
    await expect(second.call(() => 'x')).rejects.toBeInstanceOf(CircuitOpenError);
    expect(second.calls()).toBe(0);
  });
});
