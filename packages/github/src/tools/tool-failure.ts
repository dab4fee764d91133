import { GitHubError } from '../errors.ts';
import { toolError } from './tool-arguments.ts';

/**
 * Sorts a failed call: what the model can act on (a 403 without permission, a 404, a 422, anything not
 * retryable) becomes a tool error for it; what only time fixes (rate limits, outages) goes up to the job
 * level, which requeues the job.
 */
export function toolFailure(error: unknown): string {
  if (error instanceof GitHubError && !error.retryable) {
    return toolError(error.message);
  }
  throw error;
}
