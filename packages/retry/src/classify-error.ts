import type { HeadersLike } from './headers.ts';
import { parseRetryHint } from './retry-after.ts';

/** What one place decides about a failure: may it be retried, why, and did the server name a wait. */
export interface Classification {
  retryable: boolean;
  /** For people and metrics: `HTTP 429`, `timeout`, `ECONNRESET`, `aborted`, ... */
  reason: string;
  status?: number;
  /** The upstream's own wait hint, measured from when the error was classified. In ms. */
  retryAfterMs?: number;
}

/** Transport failures worth another try: the request may not have reached the server, or its answer was lost. */
const retryableNetworkCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENOTFOUND',
  // undici, the engine behind Node's fetch
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

const timeoutCodes = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** SDK transport errors recognised by name, so this package imports no SDK. */
const connectionErrorNames = new Set(['APIConnectionError']);
const timeoutErrorNames = new Set(['TimeoutError', 'APIConnectionTimeoutError']);

/**
 * Decides whether a failure is worth retrying. Works on errors thrown by the `openai` SDK
 * (`status`, `headers`), by Octokit (`RequestError`: `status`, `response.headers`), by `fetch`
 * (undici's `TypeError` with a coded `cause`) and on our own errors (anything carrying a boolean
 * `retryable`, which is trusted as already decided).
 *
 * HTTP 408, 429 and 5xx are retryable; other 4xx are not, except a 403 that carries a rate-limit hint
 * (`retry-after`, or `x-ratelimit-remaining: 0`), which is how GitHub signals its limits.
 * A caller's abort is never retried. Clients refine this (an OpenAI `insufficient_quota` 429, GitHub's
 * "secondary rate limit" 403 message) by wrapping it.
 */
export function classifyError(error: unknown, nowMs: number = Date.now()): Classification {
  if (!isObject(error)) return { retryable: false, reason: 'unknown error' };

  if (typeof error.retryable === 'boolean') return fromDecided(error, nowMs);

  const name = errorName(error);
  if (name === 'AbortError' || name === 'APIUserAbortError') return { retryable: false, reason: 'aborted' };
  if (timeoutErrorNames.has(name)) return { retryable: true, reason: 'timeout' };

  const status = statusOf(error);
  if (status !== undefined) return fromStatus(status, headersOf(error), nowMs);

  const code = findNetworkCode(error);
  if (code) return { retryable: true, reason: timeoutCodes.has(code) ? 'timeout' : code };
  // undici reports a body cut off mid-stream as a bare `TypeError: terminated`.
  if (name === 'TypeError' && /^(terminated|fetch failed)$/.test(String(error.message))) {
    return { retryable: true, reason: error.message === 'terminated' ? 'connection reset' : 'network error' };
  }
  if (connectionErrorNames.has(name)) return { retryable: true, reason: 'network error' };

  return { retryable: false, reason: name || 'unknown error' };
}

function fromStatus(status: number, headers: HeadersLike | undefined, nowMs: number): Classification {
  const hint = parseRetryHint(headers, nowMs);
  const withHint = (c: Classification): Classification =>
    hint === undefined ? c : { ...c, retryAfterMs: hint.delayMs };

  if (status === 408 || status === 429 || (status >= 500 && status <= 599)) {
    return withHint({ retryable: true, reason: `HTTP ${status}`, status });
  }
  if (status === 403 && hint !== undefined) {
    return withHint({ retryable: true, reason: 'HTTP 403 rate limited', status });
  }
  return { retryable: false, reason: `HTTP ${status}`, status };
}

function fromDecided(error: Record<string, unknown>, nowMs: number): Classification {
  const result: Classification = {
    retryable: error.retryable === true,
    reason: typeof error.reason === 'string' ? error.reason : errorName(error) || 'error',
  };
  if (typeof error.status === 'number') result.status = error.status;
  if (error.retryAt instanceof Date) result.retryAfterMs = Math.max(0, error.retryAt.getTime() - nowMs);
  return result;
}

function statusOf(error: Record<string, unknown>): number | undefined {
  for (const candidate of [error.status, error.statusCode, asObject(error.response)?.status]) {
    if (typeof candidate === 'number' && candidate >= 100 && candidate <= 599) return candidate;
  }
  return undefined;
}

function headersOf(error: Record<string, unknown>): HeadersLike | undefined {
  const headers = error.headers ?? asObject(error.response)?.headers;
  return isObject(headers) ? (headers as HeadersLike) : undefined;
}

/** Follows the `cause` chain a few levels: SDKs wrap fetch's error, which wraps the socket's. */
function findNetworkCode(error: Record<string, unknown>): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && isObject(current); depth++) {
    const code = current.code;
    if (typeof code === 'string' && retryableNetworkCodes.has(code)) return code;
    current = current.cause;
  }
  return undefined;
}

function errorName(error: Record<string, unknown>): string {
  if (typeof error.name === 'string' && error.name !== 'Error') return error.name;
  const ctor = (error as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === 'string' && ctor.name !== 'Object' ? ctor.name : String(error.name ?? '');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return isObject(value) ? value : undefined;
}
