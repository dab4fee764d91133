import { describe, expect, it } from 'vitest';
import type { Clock } from './clock.ts';
import { cooldownUntilMs, InMemoryCooldownStore } from './cooldown.ts';
import { CircuitOpenError, RetryAfterTooLongError } from './errors.ts';

function manualClock(t: number) {
  return {
    t,
    now() {
      return this.t;
    },
  } satisfies Clock & { t: number };
}

describe('InMemoryCooldownStore', () => {
  it('holds a target until the time given, then forgets it', async () => {
    const clock = manualClock(1_000);
    const store = new InMemoryCooldownStore({ clock });
    expect(await store.until('llm')).toBeUndefined();
    await store.hold('llm', 5_000);
    expect(await store.until('llm')).toBe(5_000);
    expect(await store.until('github:1')).toBeUndefined();
    clock.t = 5_000;
    expect(await store.until('llm')).toBeUndefined();
  });

  it('keeps the later of the stored time and a new one', async () => {
    const store = new InMemoryCooldownStore({ clock: manualClock(0) });
    await store.hold('llm', 9_000);
    await store.hold('llm', 3_000);
    expect(await store.until('llm')).toBe(9_000);
    await store.hold('llm', 12_000);
    expect(await store.until('llm')).toBe(12_000);
  });

  it('ignores a time already past', async () => {
    const store = new InMemoryCooldownStore({ clock: manualClock(10_000) });
    await store.hold('llm', 9_000);
    await store.hold('llm', Number.NaN);
    expect(await store.until('llm')).toBeUndefined();
  });
});

describe('cooldownUntilMs', () => {
  const nowMs = Date.parse('2030-01-01T00:00:00Z');
  const httpError = (status: number, headers: Record<string, string>) =>
    Object.assign(new Error(`HTTP ${status}`), { status, headers });

  it('takes the time from a 429 with Retry-After and from a GitHub rate-limit 403', () => {
    expect(cooldownUntilMs(httpError(429, { 'retry-after': '7' }), nowMs)).toBe(nowMs + 7_000);
    const reset = String((nowMs + 60_000) / 1000);
    expect(
      cooldownUntilMs(httpError(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset }), nowMs),
    ).toBe(nowMs + 60_000);
  });

  it('takes the time from our own errors that carry a 429 and a retryAt', () => {
    const error = new RetryAfterTooLongError({
      attempts: 1,
      reason: 'HTTP 429',
      status: 429,
      retryAt: new Date(nowMs + 90_000),
      maxWaitMs: 60_000,
    });
    expect(cooldownUntilMs(error, nowMs)).toBe(nowMs + 90_000);
  });

  it('says nothing for failures that do not name a quota', () => {
    expect(cooldownUntilMs(httpError(429, {}), nowMs)).toBeUndefined();
    expect(cooldownUntilMs(httpError(503, { 'retry-after': '5' }), nowMs)).toBeUndefined();
    expect(cooldownUntilMs(httpError(403, {}), nowMs)).toBeUndefined();
    expect(cooldownUntilMs(new CircuitOpenError('llm', new Date(nowMs + 1_000)), nowMs)).toBeUndefined();
    expect(cooldownUntilMs(new Error('boom'), nowMs)).toBeUndefined();
  });
});
