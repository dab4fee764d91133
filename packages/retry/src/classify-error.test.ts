import { describe, expect, it } from 'vitest';
import { classifyError } from './classify-error.ts';
import { AttemptTimeoutError, CircuitOpenError, NotRetryableError, RetriesExhaustedError } from './errors.ts';

/** Shaped like openai-node's APIError: `status` and fetch `Headers`. */
class FakeOpenAIError extends Error {
  constructor(
    readonly status: number | undefined,
    readonly headers: Headers,
  ) {
    super(`${status} from fake openai`);
  }
}

/** Shaped like Octokit's RequestError: `status` and `response.headers` as a plain record. */
function octokitError(status: number, headers: Record<string, string> = {}) {
  return Object.assign(new Error('octokit'), {
    name: 'HttpError',
    status,
    response: { status, headers, data: {} },
  });
}

function withCode(code: string, message = code) {
  return Object.assign(new Error(message), { code });
}

const now = Date.parse('2026-11-25T12:00:00Z');

describe('classifyError', () => {
  it.each([408, 429, 500, 502, 503, 504, 599])('retries HTTP %i', (status) => {
    expect(classifyError(octokitError(status), now)).toEqual({
      retryable: true,
      reason: `HTTP ${status}`,
      status,
    });
  });

  it.each([400, 401, 403, 404, 409, 410, 422, 451])('does not retry HTTP %i', (status) => {
    expect(classifyError(octokitError(status), now)).toEqual({
      retryable: false,
      reason: `HTTP ${status}`,
      status,
    });
  });

  it('retries a 403 only when it carries a rate-limit hint', () => {
    const primary = octokitError(403, {
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String(now / 1000 + 2),
    });
    expect(classifyError(primary, now)).toEqual({
      retryable: true,
      reason: 'HTTP 403 rate limited',
      status: 403,
      retryAfterMs: 2_000,
    });
    expect(classifyError(octokitError(403, { 'retry-after': '1' }), now)).toMatchObject({
      retryable: true,
      retryAfterMs: 1_000,
    });
    expect(classifyError(octokitError(403, { 'x-ratelimit-remaining': '4999' }), now).retryable).toBe(false);
  });

  it('carries the server hint of an openai-style error with fetch Headers', () => {
    const error = new FakeOpenAIError(429, new Headers({ 'retry-after-ms': '250' }));
    expect(classifyError(error, now)).toEqual({
      retryable: true,
      reason: 'HTTP 429',
      status: 429,
      retryAfterMs: 250,
    });
  });

  it.each(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET'])('retries %s', (code) => {
    expect(classifyError(withCode(code), now)).toEqual({ retryable: true, reason: code });
  });

  it('calls socket and connect timeouts timeouts', () => {
    expect(classifyError(withCode('ETIMEDOUT'), now)).toEqual({ retryable: true, reason: 'timeout' });
    expect(classifyError(withCode('UND_ERR_HEADERS_TIMEOUT'), now)).toEqual({
      retryable: true,
      reason: 'timeout',
    });
  });

  it('finds the network code down the cause chain, as SDKs wrap fetch errors', () => {
    const socket = withCode('ECONNRESET');
    const fetchError = new TypeError('fetch failed', { cause: socket });
    const sdkError = Object.assign(new Error('Connection error.', { cause: fetchError }), {
      name: 'APIConnectionError',
      status: undefined,
    });
    expect(classifyError(sdkError, now)).toEqual({ retryable: true, reason: 'ECONNRESET' });
  });

  it('retries a body cut off mid-stream, which undici reports as TypeError: terminated', () => {
    expect(classifyError(new TypeError('terminated'), now)).toEqual({
      retryable: true,
      reason: 'connection reset',
    });
    expect(classifyError(new TypeError('fetch failed'), now)).toEqual({
      retryable: true,
      reason: 'network error',
    });
  });

  it('retries timeouts by name: fetch’s TimeoutError and openai’s APIConnectionTimeoutError', () => {
    expect(classifyError(new DOMException('The operation timed out.', 'TimeoutError'), now)).toEqual({
      retryable: true,
      reason: 'timeout',
    });
    class APIConnectionTimeoutError extends Error {}
    expect(classifyError(new APIConnectionTimeoutError('Request timed out.'), now).reason).toBe('timeout');
  });

  it('never retries a caller abort', () => {
    expect(classifyError(new DOMException('aborted', 'AbortError'), now)).toEqual({
      retryable: false,
      reason: 'aborted',
    });
    class APIUserAbortError extends Error {}
    expect(classifyError(new APIUserAbortError('Request was aborted.'), now).retryable).toBe(false);
  });

  it('trusts errors that already carry a decision, with their retry time', () => {
    const open = new CircuitOpenError('llm', new Date(now + 5_000));
    expect(classifyError(open, now)).toEqual({
      retryable: true,
      reason: 'circuit open',
      retryAfterMs: 5_000,
    });
    expect(classifyError(new AttemptTimeoutError(30_000), now)).toEqual({
      retryable: true,
      reason: 'timeout',
    });
    const gaveUp = new RetriesExhaustedError({
      attempts: 6,
      reason: 'HTTP 503',
      status: 503,
      cause: new Error('x'),
    });
    expect(classifyError(gaveUp, now)).toEqual({ retryable: true, reason: 'HTTP 503', status: 503 });
    const fatal = new NotRetryableError({ attempts: 1, reason: 'HTTP 404', status: 404 });
    expect(classifyError(fatal, now).retryable).toBe(false);
  });

  it('does not retry programming errors and unknown values', () => {
    expect(classifyError(new TypeError("Cannot read properties of undefined (reading 'x')"), now)).toEqual({
      retryable: false,
      reason: 'TypeError',
    });
    expect(classifyError(new SyntaxError('Unexpected end of JSON input'), now).retryable).toBe(false);
    expect(classifyError('a string', now).retryable).toBe(false);
    expect(classifyError(undefined, now).retryable).toBe(false);
  });
});
