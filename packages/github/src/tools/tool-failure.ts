import { GitHubError } from '../errors.ts';
import { toolError } from './tool-arguments.ts';

/**
 * Sorts a failed call: what the model can act on (a 403 without permission, a 404, a 422) becomes a
 * tool error for it. Two kinds go up to the job level instead: what only time fixes (rate limits,
 * outages: retryable), and a failure to authenticate as the app (a bad key, an app not installed),
 * which no model can fix and which must fail the job, not be talked around.
 */
export function toolFailure(error: unknown): string {
  const auth = authFailure(error);
  if (auth) throw auth;
  if (error instanceof GitHubError && !error.retryable) return toolError(error.message);
  throw error;
}

/** The token client's error somewhere down the cause chain, if the call failed to authenticate. */
function authFailure(error: unknown): GitHubError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    if (current instanceof GitHubError && current.layer === 'request' && current.target === 'githubToken') {
      return current;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
