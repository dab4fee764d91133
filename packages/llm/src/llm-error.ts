import { isRetryError, type RetryError } from '@runner/retry';

export type LlmErrorCode =
  | 'insufficient_quota'
  | 'retries_exhausted'
  | 'not_retryable'
  | 'retry_after_too_long'
  | 'deadline_exceeded'
  | 'circuit_open'
  | 'attempt_timeout';

/**
 * What the LLM client throws after layer 1 is done: whether the job level may try again (`retryable`),
 * when (`retryAt`), and the last upstream failure as `cause`. The API key is never part of it.
 */
export class LlmError extends Error {
  override name = 'LlmError';
  readonly code: LlmErrorCode;
  readonly retryable: boolean;
  readonly reason: string;
  readonly status: number | undefined;
  readonly retryAt: Date | undefined;
  readonly attempts: number | undefined;
  readonly layer = 'request' as const;
  readonly target = 'llm' as const;

  constructor(code: LlmErrorCode, message: string, from: RetryError) {
    super(message, { cause: from.cause ?? from });
    this.code = code;
    this.retryable = from.retryable;
    this.reason = from.reason;
    this.status = from.status;
    this.retryAt = from.retryAt;
    this.attempts = from.attempts;
  }

  /** Turns the retry core's verdict into the client's error, with a message that says what to do. */
  static from(error: unknown): unknown {
    if (!isRetryError(error)) return error;
    if (error.reason === 'insufficient quota') {
      return new LlmError(
        'insufficient_quota',
        'LLM request failed: the account behind LLM_API_KEY has no quota left (HTTP 429 insufficient_quota). Check its plan and billing; retrying will not help.',
        error,
      );
    }
    return new LlmError(error.code, `LLM request failed: ${error.message}`, error);
  }
}

export function isLlmError(error: unknown): error is LlmError {
  return error instanceof LlmError;
}
