import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { withTimeout } from './with-timeout.ts';

class LateError extends Error {}

describe('withTimeout (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('gives the answer that comes in time, and leaves no timer behind', async () => {
    const answer = new Promise<string>((resolve) => setTimeout(() => resolve('ok'), 99));
    const result = withTimeout(answer, 100, () => new LateError());
    await vi.advanceTimersByTimeAsync(99);
    await expect(result).resolves.toBe('ok');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('passes on the rejection that comes in time', async () => {
    const failing = Promise.reject(new Error('refused'));
    await expect(withTimeout(failing, 100, () => new LateError())).rejects.toThrow('refused');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with the timeout error at the timeout, and drops a late rejection', async () => {
    const late = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('late')), 500));
    const result = withTimeout(late, 100, () => new LateError('no answer within 100 ms'));
    const outcome = expect(result).rejects.toBeInstanceOf(LateError);
    await vi.advanceTimersByTimeAsync(100);
    await outcome;
    // The late rejection has a handler (the race's), so it is not reported as unhandled.
    await vi.advanceTimersByTimeAsync(400);
  });
});
