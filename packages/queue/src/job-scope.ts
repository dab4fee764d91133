import { AsyncLocalStorage } from 'node:async_hooks';
import type { RetryEvent } from '@runner/retry';

/** The job a piece of async work belongs to, so process-wide clients can attribute their retries. */
export interface JobScope {
  jobId: string;
  recordRetry(event: RetryEvent): void;
}

const storage = new AsyncLocalStorage<JobScope>();

/** Runs `fn` with `scope` as the current job, through every await inside it. */
export function runInJobScope<T>(scope: JobScope, fn: () => Promise<T>): Promise<T> {
  return storage.run(scope, fn);
}

/**
 * An `onRetry` hook for clients shared by all jobs of a process (the LLM client, the token client):
 * it records the retry in the timeline of the job whose work made the call, if any.
 */
export function recordRetryInCurrentJob(event: RetryEvent): void {
  storage.getStore()?.recordRetry(event);
}
