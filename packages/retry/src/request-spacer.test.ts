import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RequestSpacer } from './request-spacer.ts';

describe('RequestSpacer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets the first call through at once and spaces concurrent callers by the interval', async () => {
    const spacer = new RequestSpacer({ minIntervalMs: 100 });
    const startedAtMs: number[] = [];
    const calls = Array.from({ length: 50 }, () => spacer.run(async () => startedAtMs.push(Date.now())));
    await vi.runAllTimersAsync();
    await Promise.all(calls);
    expect(startedAtMs).toEqual(Array.from({ length: 50 }, (_, i) => i * 100));
  });

  it('does not delay calls that are already far enough apart', async () => {
    const spacer = new RequestSpacer({ minIntervalMs: 100 });
    await spacer.wait();
    await vi.advanceTimersByTimeAsync(250);
    const before = Date.now();
    await spacer.wait();
    expect(Date.now()).toBe(before);
  });

  it('gives up a wait at once when aborted', async () => {
    const spacer = new RequestSpacer({ minIntervalMs: 1_000 });
    await spacer.wait();
    const controller = new AbortController();
    const waiting = spacer.wait(controller.signal).catch((e: unknown) => e);
    controller.abort(new Error('no longer needed'));
    expect(((await waiting) as Error).message).toBe('no longer needed');
    expect(Date.now()).toBe(0);
  });

  it('rejects a negative interval', () => {
    expect(() => new RequestSpacer({ minIntervalMs: -1 })).toThrow(/minIntervalMs/);
  });
});
