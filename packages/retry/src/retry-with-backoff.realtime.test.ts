// A few tests on the real clock with small delays: the fake-timer tests prove the arithmetic,
// these prove that the waits really happen and really stop.
import { describe, expect, it } from 'vitest';
import { retryWithBackoff } from './retry-with-backoff.ts';

function httpError(status: number, headers: Record<string, string> = {}) {
  return Object.assign(new Error(`HTTP ${status}`), { status, headers });
}

describe('retryWithBackoff (real time)', () => {
  it('really waits the backoff between attempts', async () => {
    const startedAtMs: number[] = [];
    await retryWithBackoff(
      async (attempt) => {
        startedAtMs.push(performance.now());
        if (attempt < 3) throw httpError(503);
      },
      { initialDelayMs: 40, maxDelayMs: 1_000, multiplier: 2, jitter: 'none' },
    );
    expect(startedAtMs[1]! - startedAtMs[0]!).toBeGreaterThanOrEqual(39);
    expect(startedAtMs[2]! - startedAtMs[1]!).toBeGreaterThanOrEqual(79);
  });

  it('really waits a retry-after-ms hint', async () => {
    const startedAtMs: number[] = [];
    await retryWithBackoff(
      async (attempt) => {
        startedAtMs.push(performance.now());
        if (attempt === 1) throw httpError(429, { 'retry-after-ms': '150' });
      },
      { initialDelayMs: 1, maxDelayMs: 1_000, jitter: 'none' },
    );
    expect(startedAtMs[1]! - startedAtMs[0]!).toBeGreaterThanOrEqual(149);
  });

  it('really times out a hung attempt and retries with a fresh signal', async () => {
    const signals: AbortSignal[] = [];
    const result = await retryWithBackoff(
      (attempt, signal) => {
        signals.push(signal);
        if (attempt === 1) {
          return new Promise<string>((_, reject) =>
            signal.addEventListener('abort', () => reject(signal.reason)),
          );
        }
        return Promise.resolve('done');
      },
      { timeoutMs: 50, initialDelayMs: 1, maxDelayMs: 10, jitter: 'none' },
    );
    expect(result).toBe('done');
    expect(signals.map((s) => s.aborted)).toEqual([true, false]);
  });

  it('ends a long wait as soon as the caller aborts', async () => {
    const controller = new AbortController();
    let failed!: () => void;
    const firstFailure = new Promise<void>((resolve) => {
      failed = resolve;
    });
    const outcome = retryWithBackoff(
      async () => {
        failed();
        throw httpError(503);
      },
      { initialDelayMs: 20_000, maxDelayMs: 20_000, jitter: 'none', signal: controller.signal },
    ).catch((error: unknown) => error);
    await firstFailure;
    const abortedAt = performance.now();
    controller.abort(new Error('stop'));
    expect(((await outcome) as Error).message).toBe('stop');
    // A 20 s wait that ended with the abort, not after it.
    expect(performance.now() - abortedAt).toBeLessThan(1_000);
  });
});
