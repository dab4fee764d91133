import {
  type Clock,
  defaultPolicies,
  formatSeconds,
  type Logger,
  type Random,
  RetryBudgetExhaustedError,
  RetryError,
  type RetryEvent,
  type RetryOptions,
  type RetryPolicy,
  retryWithBackoff,
  type Sleep,
} from '@runner/retry';
import { classifyGitHubError } from './classify-github-error.ts';
import { GitHubError } from './errors.ts';
import type { InstallationFleet } from './installation-fleet.ts';

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
  /** Cooperation with the other workers on this installation: shared cooldown, budget, rate limit, circuit. */
  fleet?: InstallationFleet;
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
  const { logger, onRetry, signal, deadlineAtMs, fleet, clock, sleep, random, shouldRetry } = options;
  const policy = options.policy ?? defaultPolicies.githubTools;
  const nowMs = (clock ?? Date).now();
  try {
    // Cooldowns longer than this layer's longest wait end the call with their time, for the job level.
    const shared = await fleet?.guard.forCall<T>(fleet.target, policy.maxDelayMs);
    const attempt = (n: number, attemptSignal: AbortSignal): Promise<T> => {
      const send = () =>
        fleet?.breaker ? fleet.breaker.execute(() => fn(n, attemptSignal)) : fn(n, attemptSignal);
      return shared ? shared.observe(send) : send();
    };
    return await retryWithBackoff(attempt, {
      policy,
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
      ...(shared && { pace: shared.pace, beforeRetry: shared.beforeRetry }),
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
  if (error instanceof GitHubError) return error;
  if (!(error instanceof RetryError || error instanceof RetryBudgetExhaustedError)) return error;
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
