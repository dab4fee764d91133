import {
  type Clock,
  defaultPolicies,
  formatSeconds,
  type Logger,
  type Random,
  RetryError,
  type RetryEvent,
  type RetryOptions,
  type RetryPolicy,
  retryWithBackoff,
  type Sleep,
} from '@runner/retry';
import { classifyGitHubError } from './classify-github-error.ts';
import { GitHubError } from './errors.ts';

/** What every tool call shares: how to retry, whom to tell, and how long the job has left. */
export interface ToolCallOptions {
  /** Default: the `githubTools` policy (3 retries, 1 s to 30 s, full jitter, 15 s per attempt). */
  policy?: RetryPolicy;
  logger?: Logger;
  onRetry?: (event: RetryEvent) => void;
  /** The job's cancellation (a worker shutting down). */
  signal?: AbortSignal;
  /** When the job's deadline passes, epoch ms: no retry is started that would cross it. */
  deadlineAtMs?: number;
  clock?: Clock;
  sleep?: Sleep;
  random?: Random;
}

/**
 * Runs one Octokit call of a tool under the tool level's retry policy (layer 2), classified by
 * `classifyGitHubError`, and logs retries in the design notes' form:
 * `[Attempt 1/4] GitHub API rate limited. Retrying in 1.0s...`.
 * @throws GitHubError with `layer: 'tool'`, keeping `retryable` and `retryAt` for the job level.
 */
export async function callGitHub<T>(
  tool: string,
  fn: (attempt: number, signal: AbortSignal) => Promise<T>,
  options: ToolCallOptions & Pick<RetryOptions, 'shouldRetry'> = {},
): Promise<T> {
  const { policy, logger, onRetry, signal, deadlineAtMs, clock, sleep, random, shouldRetry } = options;
  const nowMs = (clock ?? Date).now();
  try {
    return await retryWithBackoff(fn, {
      policy: policy ?? defaultPolicies.githubTools,
      classify: classifyGitHubError,
      layer: 'tool',
      target: tool,
      describeRetry,
      ...(logger && { logger }),
      ...(onRetry && { onRetry }),
      ...(signal && { signal }),
      ...(deadlineAtMs !== undefined && { deadlineMs: Math.max(0, deadlineAtMs - nowMs) }),
      ...(clock && { clock }),
      ...(sleep && { sleep }),
      ...(random && { random }),
      ...(shouldRetry && { shouldRetry }),
    });
  } catch (error) {
    throw toToolError(tool, error);
  }
}

function describeRetry(event: RetryEvent): string {
  const what =
    /rate limit/.test(event.reason) || event.status === 429
      ? 'rate limited'
      : `call failed (${event.reason})`;
  return `[Attempt ${event.attempt - 1}/${event.maxAttempts}] GitHub API ${what}. Retrying in ${formatSeconds(event.delayMs)}...`;
}

function toToolError(tool: string, error: unknown): unknown {
  if (error instanceof GitHubError || !(error instanceof RetryError)) return error;
  return new GitHubError(`${tool}: ${error.message}`, {
    code: error.code,
    retryable: error.retryable,
    reason: error.reason,
    layer: 'tool',
    target: tool,
    status: error.status,
    attempts: error.attempts,
    retryAt: error.retryAt,
    cause: error,
  });
}
