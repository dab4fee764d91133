import { type Classification, classifyError, type HeadersLike, readHeader } from '@runner/retry';

/**
 * GitHub's rule for a secondary rate limit without `retry-after` or `x-ratelimit-reset`:
 * "wait for at least one minute before retrying".
 * https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit
 */
export const secondaryRateLimitWaitMs = 60_000;

/** GitHub's wording for secondary limits, and the older "abuse detection" one. */
const secondaryRateLimitMessage = /secondary rate limit|abuse detection/i;

/**
 * `classifyError` from `@runner/retry`, refined for errors from `@octokit/request` (`RequestError`):
 *
 * - A 403 is retryable only when it is a rate limit: it has `retry-after`, or `x-ratelimit-remaining: 0`,
 *   or its message says "secondary rate limit". Any other 403 (no permission, suspended installation)
 *   is final.
 * - A secondary rate limit (403 or 429) with no server hint waits at least 60 s; so does an exhausted
 *   primary limit that names no reset time.
 * - A `RequestError` without a response is Octokit's wrapping of what `fetch` threw, reported as
 *   status 500; it is classified by that cause instead (a reset, a timeout, the caller's abort), so a
 *   caller's abort with a custom reason is not mistaken for a retryable HTTP 500.
 *
 * Used by the token client and, later, by the tool level.
 */
export function classifyGitHubError(error: unknown, nowMs: number = Date.now()): Classification {
  if (!isObject(error) || typeof error.retryable === 'boolean') return classifyError(error, nowMs);

  if (error.name === 'HttpError' && error.response === undefined && error.cause !== undefined) {
    return classifyError(error.cause, nowMs);
  }

  const base = classifyError(error, nowMs);
  if (base.status !== 403 && base.status !== 429) return base;

  const headers = headersOf(error);
  const secondary = secondaryRateLimitMessage.test(messagesOf(error));
  const exhausted = readHeader(headers, 'x-ratelimit-remaining')?.trim() === '0';
  const hasRetryAfter = readHeader(headers, 'retry-after') !== undefined;
  if (base.status === 403 && !(base.retryable || secondary || exhausted || hasRetryAfter)) return base;

  const retryAfterMs = base.retryAfterMs ?? (secondary || exhausted ? secondaryRateLimitWaitMs : undefined);
  return {
    retryable: true,
    reason: `HTTP ${base.status} ${secondary ? 'secondary rate limit' : 'rate limited'}`,
    status: base.status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}

function headersOf(error: Record<string, unknown>): HeadersLike | undefined {
  const response = error.response;
  const headers = isObject(response) ? response.headers : error.headers;
  return isObject(headers) ? (headers as HeadersLike) : undefined;
}

/** The error's message and, when GitHub sent one, the body's `message`. */
function messagesOf(error: Record<string, unknown>): string {
  const response = error.response;
  const data = isObject(response) ? response.data : undefined;
  const bodyMessage = isObject(data) && typeof data.message === 'string' ? data.message : '';
  return `${typeof error.message === 'string' ? error.message : ''}\n${bodyMessage}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
