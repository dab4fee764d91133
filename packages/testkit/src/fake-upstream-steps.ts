import { STATUS_CODES } from 'node:http';
import type { RecordedRequest } from './recorded-request.ts';

/** Header map for scripted responses; names are sent as given. */
export type StepHeaders = Readonly<Record<string, string>>;

/** Send a complete response. */
export interface RespondStep {
  readonly kind: 'respond';
  readonly status: number;
  readonly headers?: StepHeaders;
  readonly body?: string;
}

/** Never answer; the socket stays open until the client gives up or the server closes. */
export interface HangStep {
  readonly kind: 'hang';
}

/** Destroy the connection with a TCP RST before any response bytes are sent. */
export interface ResetStep {
  readonly kind: 'reset';
}

/**
 * Send status and headers advertising the full `content-length`, then about half of `body`,
 * then reset the connection.
 */
export interface ResetMidBodyStep {
  readonly kind: 'resetMidBody';
  readonly status: number;
  readonly headers?: StepHeaders;
  readonly body: string;
}

/** Wait `ms`, then perform `step` (skipped if the client or server went away meanwhile). */
export interface DelayStep {
  readonly kind: 'delay';
  readonly ms: number;
  readonly step: Step;
}

/** Computes the step from the request, e.g. to echo a posted body back. */
export type StepFunction = (req: RecordedRequest) => Step | Promise<Step>;

/**
 * What the fake upstream does for one call. Build these with {@link reply}; plain objects
 * of the same shape work too.
 */
export type Step = RespondStep | HangStep | ResetStep | ResetMidBodyStep | DelayStep | StepFunction;

/** Options for {@link reply.rateLimited}. */
export interface RateLimitedOptions {
  /** Sent as `retry-after: <seconds>`. */
  readonly retryAfterSeconds?: number;
  /** Sent as `retry-after: <HTTP-date>` (second precision, via `toUTCString()`). */
  readonly retryAfterDate?: Date;
  /** Sent as `retry-after-ms: <ms>` (the OpenAI-style hint). */
  readonly retryAfterMs?: number;
  /** 429 (OpenAI, GitHub) or 403 (GitHub secondary rate limits). */
  readonly status?: 429 | 403;
  readonly body?: unknown;
  readonly headers?: StepHeaders;
}

/** Defaults used by the {@link reply} builders. */
export const defaultReplyOptions = {
  rateLimitedStatus: 429,
  resetMidBodyStatus: 200,
  malformedJsonStatus: 200,
  /** Status sent when `reply.hang({ ms })` stops hanging. */
  hangThenStatus: 200,
} as const;

const jsonContentType = 'application/json; charset=utf-8';

// Statuses that must not carry a body; writing one would be a protocol error.
const bodylessStatuses = new Set([204, 205, 304]);

const errorTypes: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  409: 'conflict_error',
  422: 'invalid_request_error',
  429: 'rate_limit_error',
};

/**
 * An error body that reads naturally to both OpenAI-style clients (`error.message`) and
 * GitHub-style clients (top-level `message`).
 */
export function errorBody(message: string, type: string, code?: string): unknown {
  return { error: { message, type, code: code ?? null }, message };
}

function errorTypeFor(status: number): string {
  return errorTypes[status] ?? (status >= 500 ? 'server_error' : 'api_error');
}

function serialize(body: unknown): string {
  // JSON.stringify(undefined) is undefined; send a valid JSON document anyway.
  return JSON.stringify(body) ?? 'null';
}

function json(status: number, body: unknown, headers?: StepHeaders): RespondStep {
  if (bodylessStatuses.has(status)) return { kind: 'respond', status, headers: headers ?? {} };
  const text = serialize(body);
  return {
    kind: 'respond',
    status,
    headers: {
      'content-type': jsonContentType,
      'content-length': String(Buffer.byteLength(text)),
      ...headers,
    },
    body: text,
  };
}

function text(status: number, body: string, headers?: StepHeaders): RespondStep {
  return {
    kind: 'respond',
    status,
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      ...headers,
    },
    body,
  };
}

function rateLimited(options: RateLimitedOptions = {}): RespondStep {
  if (options.retryAfterSeconds !== undefined && options.retryAfterDate !== undefined) {
    throw new TypeError('reply.rateLimited: pass retryAfterSeconds or retryAfterDate, not both');
  }
  const status = options.status ?? defaultReplyOptions.rateLimitedStatus;
  const hints: Record<string, string> = {};
  if (options.retryAfterSeconds !== undefined) hints['retry-after'] = String(options.retryAfterSeconds);
  if (options.retryAfterDate !== undefined) hints['retry-after'] = options.retryAfterDate.toUTCString();
  if (options.retryAfterMs !== undefined) hints['retry-after-ms'] = String(options.retryAfterMs);
  const body =
    options.body ??
    errorBody(
      'Rate limit reached (fake upstream). Please try again later.',
      'requests',
      'rate_limit_exceeded',
    );
  return json(status, body, { ...hints, ...options.headers });
}

function status(code: number, body?: unknown): RespondStep {
  const message = `${code} ${STATUS_CODES[code] ?? 'Unknown Status'} (fake upstream)`;
  return json(code, body ?? errorBody(message, errorTypeFor(code)));
}

function hang(options: { ms?: number } = {}): HangStep | DelayStep {
  if (options.ms === undefined) return { kind: 'hang' };
  return { kind: 'delay', ms: options.ms, step: json(defaultReplyOptions.hangThenStatus, {}) };
}

function reset(): ResetStep {
  return { kind: 'reset' };
}

const defaultCutOffBody = {
  id: 'chatcmpl-fake-cut-off',
  object: 'chat.completion',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'This response is cut off mid-stream. '.repeat(8) },
      finish_reason: 'stop',
    },
  ],
};

function resetMidBody(
  options: { status?: number; body?: unknown; headers?: StepHeaders } = {},
): ResetMidBodyStep {
  return {
    kind: 'resetMidBody',
    status: options.status ?? defaultReplyOptions.resetMidBodyStatus,
    headers: { 'content-type': jsonContentType, ...options.headers },
    body: serialize(options.body ?? defaultCutOffBody),
  };
}

/** A body that starts like a chat completion and stops, so `JSON.parse` must fail. */
export const malformedJsonBody = '{"id": "chatcmpl-1", "choices": [';

function malformedJson(options: { status?: number } = {}): RespondStep {
  const body = malformedJsonBody;
  return {
    kind: 'respond',
    status: options.status ?? defaultReplyOptions.malformedJsonStatus,
    headers: { 'content-type': jsonContentType, 'content-length': String(Buffer.byteLength(body)) },
    body,
  };
}

function delay(ms: number, step: Step): DelayStep {
  return { kind: 'delay', ms, step };
}

/** Builders for fake-upstream {@link Step}s. */
export const reply = {
  /** JSON `body` with `content-type: application/json` and `content-length`. */
  json,
  /** Plain-text body. */
  text,
  /** A 429 (or 403) with `retry-after` / `retry-after-ms` hints and an OpenAI-style error body. */
  rateLimited,
  /** An error status with a small JSON error body (OpenAI and GitHub shapes), or `body` if given. */
  status,
  /** Never answer; with `ms`, answer `200 {}` after that long instead. */
  hang,
  /** Reset the TCP connection (RST) before sending anything. */
  reset,
  /** Headers with the full `content-length`, about half the JSON body, then a TCP RST. */
  resetMidBody,
  /** `content-type: application/json` with a truncated, unparsable body. */
  malformedJson,
  /** Wait `ms`, then perform `step`. */
  delay,
} as const;
