import { AttemptTimeoutError } from '@runner/retry';
import { describe, expect, it } from 'vitest';
import { classifyGitHubError, secondaryRateLimitWaitMs } from './classify-github-error.ts';
import { GitHubError } from './errors.ts';

const nowMs = Date.parse('2030-01-01T00:00:00Z');

/** The shape of `RequestError` from `@octokit/request` for an HTTP answer. */
function httpError(status: number, message: string, headers: Record<string, string> = {}) {
  return {
    name: 'HttpError',
    status,
    message,
    request: {
      method: 'POST',
      url: 'https://api.github.com/x',
      headers: { authorization: 'bearer [REDACTED]' },
    },
    response: { status, url: 'https://api.github.com/x', headers, data: { message } },
  };
}

/** The shape of `RequestError` when `fetch` itself threw: status 500, no response, the cause kept. */
function fetchFailure(cause: unknown) {
  return Object.assign(new Error(cause instanceof Error ? cause.message : 'fetch failed'), {
    name: 'HttpError',
    status: 500,
    response: undefined,
    cause,
  });
}

describe('classifyGitHubError', () => {
  it('does not retry a plain 403', () => {
    expect(classifyGitHubError(httpError(403, 'Resource not accessible by integration'), nowMs)).toEqual({
      retryable: false,
      reason: 'HTTP 403',
      status: 403,
    });
  });

  it('retries a 403 with retry-after, waiting as told', () => {
    expect(classifyGitHubError(httpError(403, 'Forbidden', { 'retry-after': '7' }), nowMs)).toEqual({
      retryable: true,
      reason: 'HTTP 403 rate limited',
      status: 403,
      retryAfterMs: 7_000,
    });
  });

  it('retries a 403 with x-ratelimit-remaining: 0 until x-ratelimit-reset', () => {
    const reset = String(nowMs / 1000 + 30);
    const error = httpError(403, 'API rate limit exceeded', {
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': reset,
    });
    expect(classifyGitHubError(error, nowMs)).toMatchObject({ retryable: true, retryAfterMs: 30_000 });
  });

  it('waits 60 s on an exhausted primary limit that names no reset', () => {
    const error = httpError(403, 'API rate limit exceeded', { 'x-ratelimit-remaining': '0' });
    expect(classifyGitHubError(error, nowMs)).toMatchObject({
      retryable: true,
      retryAfterMs: secondaryRateLimitWaitMs,
    });
  });

  it('waits at least 60 s on a secondary rate limit without retry-after, on 403 and on 429', () => {
    const message =
      'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.';
    for (const status of [403, 429]) {
      expect(classifyGitHubError(httpError(status, message), nowMs)).toEqual({
        retryable: true,
        reason: `HTTP ${status} secondary rate limit`,
        status,
        retryAfterMs: 60_000,
      });
    }
  });

  it("takes a secondary rate limit's retry-after over the 60 s rule", () => {
    const error = httpError(403, 'You have exceeded a secondary rate limit.', { 'retry-after': '5' });
    expect(classifyGitHubError(error, nowMs)).toMatchObject({ retryable: true, retryAfterMs: 5_000 });
  });

  it('recognises the older abuse-detection wording', () => {
    const error = httpError(403, 'You have triggered an abuse detection mechanism.');
    expect(classifyGitHubError(error, nowMs)).toMatchObject({ retryable: true, retryAfterMs: 60_000 });
  });

  it('leaves 401, 404 and 422 final and 5xx retryable, as classifyError does', () => {
    for (const status of [401, 404, 422]) {
      expect(classifyGitHubError(httpError(status, 'x'), nowMs).retryable).toBe(false);
    }
    for (const status of [500, 502, 503]) {
      expect(classifyGitHubError(httpError(status, 'x'), nowMs)).toEqual({
        retryable: true,
        reason: `HTTP ${status}`,
        status,
      });
    }
  });

  it('classifies a fetch failure by its cause, not as the HTTP 500 Octokit reports', () => {
    const reset = Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
    });
    expect(classifyGitHubError(fetchFailure(reset), nowMs)).toEqual({
      retryable: true,
      reason: 'UND_ERR_SOCKET',
    });
    expect(classifyGitHubError(fetchFailure(new AttemptTimeoutError(200)), nowMs)).toMatchObject({
      retryable: true,
      reason: 'timeout',
    });
    // A caller's abort with its own reason is not retried.
    expect(classifyGitHubError(fetchFailure(new Error('job cancelled')), nowMs).retryable).toBe(false);
  });

  it('trusts an error that already says whether it is retryable', () => {
    const retryAt = new Date(nowMs + 90_000);
    const error = new GitHubError('x', {
      code: 'retry_after_too_long',
      retryable: true,
      reason: 'HTTP 403 secondary rate limit',
      layer: 'request',
      target: 'githubToken',
      status: 403,
      retryAt,
    });
    expect(classifyGitHubError(error, nowMs)).toEqual({
      retryable: true,
      reason: 'HTTP 403 secondary rate limit',
      status: 403,
      retryAfterMs: 90_000,
    });
  });

  it('does not retry what it cannot recognise', () => {
    expect(classifyGitHubError(new Error('boom'), nowMs).retryable).toBe(false);
    expect(classifyGitHubError('boom', nowMs).retryable).toBe(false);
  });
});
