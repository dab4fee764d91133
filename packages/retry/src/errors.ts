/**
 * The retry vocabulary. Every error this package throws is a `RetryError` with a string `code`,
 * whether the operation may be tried again later (`retryable`), and what the next layer needs to decide:
 * the last HTTP `status`, the `reason` in words, how many `attempts` were made, and `retryAt` when the
 * upstream named a time. The last underlying error is kept as `cause`.
 */
export type RetryErrorCode =
  | 'retries_exhausted'
  | 'not_retryable'
  | 'retry_after_too_long'
  | 'deadline_exceeded'
  | 'attempt_timeout'
  | 'circuit_open';

export interface RetryErrorDetails {
  retryable: boolean;
  reason: string;
  attempts?: number | undefined;
  status?: number | undefined;
  retryAt?: Date | undefined;
  cause?: unknown;
}

export class RetryError extends Error {
  override name = 'RetryError';
  readonly code: RetryErrorCode;
  /** True when trying again later may succeed: the job level requeues these. */
  readonly retryable: boolean;
  /** The classification of the last failure, e.g. `HTTP 429`, `timeout`, `ECONNRESET`. */
  readonly reason: string;
  /** Attempts made, counting the first. */
  readonly attempts: number | undefined;
  readonly status: number | undefined;
  /** When the upstream said it will accept calls again. */
  readonly retryAt: Date | undefined;

  constructor(code: RetryErrorCode, message: string, details: RetryErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.retryable = details.retryable;
    this.reason = details.reason;
    this.attempts = details.attempts;
    this.status = details.status;
    this.retryAt = details.retryAt;
  }
}

/** Every allowed attempt failed with a retryable error. */
export class RetriesExhaustedError extends RetryError {
  override name = 'RetriesExhaustedError';
  constructor(details: Omit<RetryErrorDetails, 'retryable'> & { attempts: number }) {
    super(
      'retries_exhausted',
      `Gave up after ${plural(details.attempts, 'attempt')} (${details.reason}): ${messageOf(details.cause)}`,
      { ...details, retryable: true },
    );
  }
}

/** The failure is one that repeating will not fix (400, 401, 404, 422, ...). */
export class NotRetryableError extends RetryError {
  override name = 'NotRetryableError';
  constructor(details: Omit<RetryErrorDetails, 'retryable'> & { attempts: number }) {
    super(
      'not_retryable',
      `Failed with a non-retryable error after ${plural(details.attempts, 'attempt')} (${details.reason}): ${messageOf(details.cause)}`,
      { ...details, retryable: false },
    );
  }
}

/**
 * The upstream asked for a longer wait than this layer may hold a caller. Given up at once so the job
 * level can reschedule for `retryAt` instead of blocking a worker.
 */
export class RetryAfterTooLongError extends RetryError {
  override name = 'RetryAfterTooLongError';
  constructor(
    details: Omit<RetryErrorDetails, 'retryable' | 'retryAt'> & { retryAt: Date; maxWaitMs: number },
  ) {
    super(
      'retry_after_too_long',
      `Upstream asked to retry at ${details.retryAt.toISOString()}, beyond this layer's ${formatSeconds(details.maxWaitMs)} limit (${details.reason}): ${messageOf(details.cause)}`,
      { ...details, retryable: true },
    );
  }
}

/** The overall deadline would pass before the next attempt could start. */
export class DeadlineExceededError extends RetryError {
  override name = 'DeadlineExceededError';
  constructor(details: Omit<RetryErrorDetails, 'retryable'> & { attempts: number; deadlineMs: number }) {
    super(
      'deadline_exceeded',
      `Deadline of ${formatSeconds(details.deadlineMs)} reached after ${plural(details.attempts, 'attempt')} (${details.reason}): ${messageOf(details.cause)}`,
      { ...details, retryable: true },
    );
  }
}

/** One attempt ran past its time limit. Retryable: the next attempt gets a fresh signal. */
export class AttemptTimeoutError extends RetryError {
  override name = 'AttemptTimeoutError';
  constructor(timeoutMs: number) {
    super('attempt_timeout', `Attempt timed out after ${formatSeconds(timeoutMs)}`, {
      retryable: true,
      reason: 'timeout',
    });
  }
}

/** The circuit for an upstream is open: calls fail fast until `retryAt`. */
export class CircuitOpenError extends RetryError {
  override name = 'CircuitOpenError';
  readonly circuit: string;
  constructor(circuit: string, retryAt: Date) {
    super('circuit_open', `Circuit "${circuit}" is open; try again at ${retryAt.toISOString()}`, {
      retryable: true,
      reason: 'circuit open',
      retryAt,
    });
    this.circuit = circuit;
  }
}

export function isRetryError(error: unknown): error is RetryError {
  return error instanceof RetryError;
}

/** Formats ms as seconds with one decimal, as in the design notes' log lines (`1.0s`). */
export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
