import { type HeadersLike, readHeader } from './headers.ts';

/** Where a server's wait hint came from; kept for logs and the job's timeline. */
export type RetryHintSource = 'retry-after-ms' | 'retry-after' | 'x-ratelimit-reset';

export interface RetryHint {
  /** How long the server asked us to wait, from `nowMs`. Never negative. In ms. */
  delayMs: number;
  source: RetryHintSource;
}

/**
 * Reads the server's wait hint, most precise first:
 * `retry-after-ms` (OpenAI's), `retry-after` as delta-seconds or HTTP-date (RFC 9110 §10.2.3),
 * then GitHub's primary rate limit: `x-ratelimit-remaining: 0` with `x-ratelimit-reset` in epoch seconds.
 * Malformed values are ignored rather than trusted.
 */
export function parseRetryHint(headers: HeadersLike | undefined, nowMs: number): RetryHint | undefined {
  const ms = parseNumber(readHeader(headers, 'retry-after-ms'));
  if (ms !== undefined) return { delayMs: ms, source: 'retry-after-ms' };

  const retryAfter = readHeader(headers, 'retry-after')?.trim();
  if (retryAfter) {
    const seconds = parseNumber(retryAfter);
    if (seconds !== undefined) return { delayMs: seconds * 1000, source: 'retry-after' };
    // An HTTP-date names its weekday and month; Date.parse alone would take "-5" as a year.
    const dateMs = /[a-z]{3}/i.test(retryAfter) ? Date.parse(retryAfter) : Number.NaN;
    if (!Number.isNaN(dateMs)) return { delayMs: Math.max(0, dateMs - nowMs), source: 'retry-after' };
  }

  if (readHeader(headers, 'x-ratelimit-remaining')?.trim() === '0') {
    const resetSeconds = parseNumber(readHeader(headers, 'x-ratelimit-reset'));
    if (resetSeconds !== undefined) {
      return { delayMs: Math.max(0, resetSeconds * 1000 - nowMs), source: 'x-ratelimit-reset' };
    }
  }
  return undefined;
}

function parseNumber(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}
