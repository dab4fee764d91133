import type { RetryErrorCode } from '@runner/retry';

/**
 * Codes of `GitHubError`: the package's own, or the `RetryError` code of the retry loop that gave up
 * (`retries_exhausted`, `retry_after_too_long`, `deadline_exceeded`, `not_retryable`, ...).
 */
export type GitHubErrorCode =
  /** HTTP 401 from the token endpoint: the JWT was refused. */
  | 'bad_credentials'
  /** HTTP 404 from the token endpoint: no such installation for this app. */
  | 'installation_not_found'
  /** `GITHUB_APP_PRIVATE_KEY` is not an RSA private key in PEM. Thrown at construction. */
  | 'invalid_private_key'
  /** A 2xx from the token endpoint without a usable `token` and `expires_at`. */
  | 'invalid_token_response'
  /** A 2xx whose body was cut off mid-stream: the answer was lost, the action may have happened. */
  | 'truncated_response'
  /** The arguments a model gave a tool do not match its schema; nothing was sent. */
  | 'invalid_tool_arguments'
  /** The fleet's shared retry budget for the installation is spent: the job level takes over. */
  | 'retry_budget_exhausted'
  | RetryErrorCode;

/** Where in the three layers the error was raised: `request` (token client) or `tool` (the agent's tools). */
export type GitHubLayer = 'request' | 'tool';

export interface GitHubErrorDetails {
  code: GitHubErrorCode;
  retryable: boolean;
  /** For people and metrics, as in `RetryError.reason`: `HTTP 401`, `timeout`, `HTTP 403 secondary rate limit`. */
  reason: string;
  layer: GitHubLayer;
  /** Retry-policy name of the call: `githubToken`, `githubTools`. */
  target: string;
  status?: number | undefined;
  attempts?: number | undefined;
  retryAt?: Date | undefined;
  installationId?: number | undefined;
  cause?: unknown;
}

/**
 * The package's base error. Carries what the job level decides on (`retryable`, `retryAt`) in the same
 * shape as `RetryError`, so `classifyError` from `@runner/retry` trusts it as already decided.
 * Its message never contains a token or a JWT.
 */
export class GitHubError extends Error {
  override name = 'GitHubError';
  readonly code: GitHubErrorCode;
  /** True when trying again later may succeed: the job level requeues these. */
  readonly retryable: boolean;
  readonly reason: string;
  readonly layer: GitHubLayer;
  readonly target: string;
  readonly status: number | undefined;
  /** Attempts made by the retry loop, counting the first. */
  readonly attempts: number | undefined;
  /** When GitHub said it will accept calls again. */
  readonly retryAt: Date | undefined;
  readonly installationId: number | undefined;

  constructor(message: string, details: GitHubErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = details.code;
    this.retryable = details.retryable;
    this.reason = details.reason;
    this.layer = details.layer;
    this.target = details.target;
    this.status = details.status;
    this.attempts = details.attempts;
    this.retryAt = details.retryAt;
    this.installationId = details.installationId;
  }
}

export function isGitHubError(error: unknown): error is GitHubError {
  return error instanceof GitHubError;
}
