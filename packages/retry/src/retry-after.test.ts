import { describe, expect, it } from 'vitest';
import { parseRetryHint } from './retry-after.ts';

const now = Date.parse('2026-11-25T12:00:00Z');

describe('parseRetryHint', () => {
  it('reads Retry-After as delta-seconds', () => {
    expect(parseRetryHint({ 'retry-after': '2' }, now)).toEqual({ delayMs: 2_000, source: 'retry-after' });
    expect(parseRetryHint({ 'Retry-After': '0.5' }, now)).toEqual({ delayMs: 500, source: 'retry-after' });
  });

  it('reads Retry-After as an HTTP-date', () => {
    const at = new Date(now + 7_000).toUTCString();
    expect(parseRetryHint({ 'retry-after': at }, now)).toEqual({ delayMs: 7_000, source: 'retry-after' });
  });

  it('treats an HTTP-date in the past as no wait', () => {
    const at = new Date(now - 60_000).toUTCString();
    expect(parseRetryHint({ 'retry-after': at }, now)?.delayMs).toBe(0);
  });

  it('prefers retry-after-ms, which is more precise', () => {
    expect(parseRetryHint({ 'retry-after-ms': '1500', 'retry-after': '2' }, now)).toEqual({
      delayMs: 1_500,
      source: 'retry-after-ms',
    });
  });

  it("reads GitHub's primary rate limit reset only when no requests remain", () => {
    const reset = String((now + 30_000) / 1000);
    expect(parseRetryHint({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset }, now)).toEqual({
      delayMs: 30_000,
      source: 'x-ratelimit-reset',
    });
    expect(
      parseRetryHint({ 'x-ratelimit-remaining': '12', 'x-ratelimit-reset': reset }, now),
    ).toBeUndefined();
  });

  it('reads fetch Headers as well as plain records', () => {
    expect(parseRetryHint(new Headers({ 'Retry-After': '3' }), now)?.delayMs).toBe(3_000);
  });

  it('ignores malformed and negative values instead of trusting them', () => {
    for (const value of ['soon', '-5', '', 'NaN', 'Infinity']) {
      expect(parseRetryHint({ 'retry-after': value }, now), value).toBeUndefined();
    }
    expect(parseRetryHint({ 'retry-after-ms': 'x' }, now)).toBeUndefined();
    expect(parseRetryHint(undefined, now)).toBeUndefined();
  });
});
