import { formatSeconds } from '@runner/retry';

/** Which of the three layers an entry comes from; `job` entries also mark the job's own life. */
export type TimelineLayer = 'request' | 'tool' | 'job';

export type TimelineKind =
  /** A lower layer waits before its next attempt. */
  | 'retry'
  | 'job_started'
  | 'job_completed'
  /** Requeued with backoff: uses up one of the job's retries. */
  | 'job_requeued'
  /** Put back until the upstream's stated time (rate limit, open circuit): uses up no retry. */
  | 'job_delayed'
  /** Failed for good: not retryable, or out of requeues (dead-lettered). */
  | 'job_failed'
  /** Put back in the queue by ops (`runner-ops retry`). */
  | 'job_retried_by_ops';

/** One line of a job's retry timeline, as stored in Redis and shown by ops. */
export interface TimelineEntry {
  kind: TimelineKind;
  layer: TimelineLayer;
  /** `llm`, `githubToken`, `comment_on_issue`, ... ; `agent` for job entries. */
  target: string;
  /** Epoch ms. */
  atMs: number;
  /** For retries: the attempt about to be made; for requeues: the requeue's number. */
  attempt?: number;
  maxAttempts?: number;
  delayMs?: number;
  reason?: string;
  status?: number;
}

const targetNames: Record<string, string> = {
  llm: 'LLM API call',
  githubToken: 'GitHub token request',
};

/** The design notes' form: `T=1s LLM API call failed (429), retrying in 1.0s (attempt 2/6)`. */
export function describeEntry(entry: TimelineEntry): string {
  const status = entry.status === undefined ? (entry.reason ?? 'error') : String(entry.status);
  const delay = entry.delayMs === undefined ? '' : formatSeconds(entry.delayMs);
  const of = entry.attempt === undefined ? '' : ` (attempt ${entry.attempt}/${entry.maxAttempts ?? '?'})`;
  switch (entry.kind) {
    case 'retry': {
      const what = targetNames[entry.target] ?? `GitHub ${entry.target} call`;
      return `${what} failed (${status}), retrying in ${delay}${of}`;
    }
    case 'job_started':
      return `Job starts${of}`;
    case 'job_completed':
      return 'Job completed';
    case 'job_requeued':
      return `All retries exhausted (${entry.reason ?? status}), job re-queued${of} after ${delay}`;
    case 'job_delayed':
      return `Upstream asked to wait (${entry.reason ?? status}), job delayed ${delay} without using a retry`;
    case 'job_failed':
      return `Job failed for good: ${entry.reason ?? status}`;
    case 'job_retried_by_ops':
      return 'Job put back in the queue by ops';
  }
}

/** Lines of `T=<s since the first entry> <description>`. */
export function formatTimeline(entries: readonly TimelineEntry[]): string[] {
  const startMs = entries[0]?.atMs ?? 0;
  return entries.map((entry) => {
    const seconds = (entry.atMs - startMs) / 1000;
    return `T=${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)}s ${describeEntry(entry)}`;
  });
}
