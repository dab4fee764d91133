import {
  backoffDelayMs,
  classifyError,
  defaultPolicies,
  formatSeconds,
  type Logger,
  type Random,
  type RetryEvent,
  type RetryPolicy,
} from '@runner/retry';
import {
  type ConnectionOptions,
  DelayedError,
  type Job,
  MetricsTime,
  UnrecoverableError,
  Worker,
} from 'bullmq';
import { type AgentJobData, parseAgentJobData } from './agent-job.ts';
import { agentQueueName } from './agent-queue.ts';
import { recordCompletedRun } from './completed-run.ts';
import { FleetStats, type JobOutcome } from './fleet-stats.ts';
import { waitForJobStart } from './job-starts.ts';
import type { RedisClient } from './redis-client.ts';
import { type LastError, RetryTracker } from './retry-tracker.ts';
import { writeTogetherUntilTick } from './socket-writes.ts';
import type { TimelineEntry, TimelineLayer } from './timeline.ts';

/** What the handler of one job run gets besides the job's data. */
export interface AgentJobContext {
  jobId: string;
  /**
   * 1 for the job's first run ever, when no earlier run can have made a side effect; counts every run
   * (BullMQ's `attemptsStarted`): delayed, requeued, stalled and ops-revived ones included.
   */
  run: number;
  /** When the job was created (enqueued), epoch ms. */
  createdAtMs: number;
  /** Aborted when the worker cancels the job. */
  signal: AbortSignal | undefined;
  /** What is left of the job's deadline, as an epoch ms time: every inner retry must end before it. */
  deadlineAtMs: number;
  /**
   * Records a lower layer's retry in the job's timeline and shows it as the job's live status. The
   * handler hands it to every call it makes, the process-wide LLM and token clients' included: passed,
   * not found through an `AsyncLocalStorage`, whose promise hooks cost every promise of the process on
   * Node 20 (30–40 µs of a no-op job's CPU time, bench/README.md).
   */
  onRetry: (event: RetryEvent) => void;
  logger: Logger;
}

export interface AgentWorkerOptions {
  /**
   * For BullMQ; it needs `maxRetriesPerRequest: null`. Given as a client, as `startWorker` gives it, it
   * can carry the tools' records too: then a job's first turn sends all it writes in one socket write.
   */
  connection: ConnectionOptions;
  /** A plain client on the same Redis, for the retry tracking. */
  redis: RedisClient;
  prefix: string;
  concurrency: number;
  /** Recorded on each job this worker runs (BullMQ's `processedBy`) and shown by `getWorkers`. */
  workerId?: string;
  /** Most work time of a job across all its runs (`JOB_DEADLINE_MS`). In ms. */
  deadlineMs: number;
  /** The job level's policy (`maxRetries` requeues, backoff bounds). Default `defaultPolicies.job`. */
  policy?: RetryPolicy;
  /** Runs of a job in all (delays to wait out an upstream included) before it is failed for good. Default 20. */
  maxRuns?: number;
  /** BullMQ's lock: a worker that stops renewing it for this long is taken for dead. Default 30 000 ms. */
  lockDurationMs?: number;
  /** How often BullMQ looks for jobs whose worker died. Default 30 000 ms. */
  stalledIntervalMs?: number;
  logger: Logger;
  random?: Random;
  /** Every retry of a lower layer (request, tool), as it happens: for the process's own metrics. */
  onRetry?: (event: RetryEvent) => void;
  /** Every job outcome, with the failure's reason: for the process's own metrics (requeued and delayed are job-level retries). */
  onOutcome?: (outcome: JobOutcome, reason?: string) => void;
  handle: (data: AgentJobData, context: AgentJobContext) => Promise<unknown>;
}

/** Thrown to BullMQ to requeue a job with backoff; carries the delay so the backoff strategy uses it. */
export class JobRequeueError extends Error {
  override name = 'JobRequeueError';
  readonly requeueDelayMs: number;
  constructor(message: string, requeueDelayMs: number, cause: unknown) {
    super(message, { cause });
    this.requeueDelayMs = requeueDelayMs;
  }
}

export const defaultAgentWorkerOptions = {
  maxRuns: 20,
  lockDurationMs: 30_000,
  stalledIntervalMs: 30_000,
} as const;

/**
 * Layer 3, the job level: runs agent jobs and decides what happens to a failed one.
 * - Not retryable (401, 403, 404, 422, invalid data) → failed at once (`UnrecoverableError`), no requeue.
 * - Retryable with a time named by the upstream (`retryAt`: a rate limit, an open circuit) → delayed until
 *   then (`moveToDelayed` + `DelayedError`), which BullMQ does not count as an attempt; bounded by
 *   `maxRuns` and the job deadline.
 * - Otherwise retryable → requeued with backoff (the `job` policy), one of its `maxRetries` used; out of
 *   them, it ends in the failed set as dead-lettered, its history kept.
 */
export function createAgentWorker(options: AgentWorkerOptions): Worker<AgentJobData> {
  const policy = options.policy ?? defaultPolicies.job;
  const tracker = new RetryTracker(options.redis, options.prefix);
  const stats = new FleetStats(options.redis, options.prefix);
  /** Counts an outcome fleet-wide (Redis) and for this process (the hook). */
  const outcome = (what: Exclude<JobOutcome, 'completed'>, reason?: string): Promise<void> => {
    options.onOutcome?.(what, reason);
    return stats.countJob(what);
  };
  const maxRuns = options.maxRuns ?? defaultAgentWorkerOptions.maxRuns;
  const random = options.random ?? Math.random;

  const processor = async (
    job: Job<AgentJobData>,
    token?: string,
    signal?: AbortSignal,
  ): Promise<unknown> => {
    const jobId = String(job.id);
    const logger = child(options.logger, { jobId });
    const run = job.attemptsStarted;
    const pending = new Set<Promise<unknown>>();
    // A tracking write that fails is logged: it must never fail the job.
    const trackingFailed = (error: unknown) => logger.warn({ err: error }, 'Could not record retry tracking');
    const track = (write: Promise<unknown>) => {
      const tracked = write.catch(trackingFailed);
      pending.add(tracked);
      void tracked.finally(() => pending.delete(tracked));
    };
    // This run's timeline entries not yet in Redis. A run that meets no trouble sends them at its end with
    // its outcome, in one command it does not wait for; a retry or a failure writes them at once, for ops
    // watching the job.
    const unwritten: TimelineEntry[] = [];
    let wroteEntries = false;
    const append = (entry: Omit<TimelineEntry, 'atMs'>) => {
      unwritten.push({ ...entry, atMs: Date.now() });
    };
    const takeUnwritten = () => unwritten.splice(0);
    const flush = () => {
      if (unwritten.length === 0) return;
      wroteEntries = true;
      track(tracker.append(jobId, ...takeUnwritten()));
    };

    // Jobs handed over together would otherwise run back to back and keep the process's other work (lock
    // renewals, /readyz, an intake) waiting: they start one after another for a slice of the loop's turn.
    await waitForJobStart();
    // Whatever the job sends on BullMQ's connection before it first waits goes in one socket write: for a
    // job with nothing to wait for, its tools' records (`startWorker` keeps them on this connection), its
    // count and BullMQ's completion, as a bare worker sends its completion alone.
    const client = await worker.client.catch(trackingFailed);
    if (client) writeTogetherUntilTick(client);
    const parsed = parseAgentJobData(job.data);
    if (!parsed.ok) {
      const message = `Invalid job data: ${parsed.problems.join('; ')}`;
      await tracker.recordFailure(jobId, lastError(new TypeError(message), 'job'), false);
      await outcome('failed');
      throw new UnrecoverableError(message);
    }
    // A first run has nothing to read: no work time used yet and no error to quote. Later runs (a job put
    // back by ops among them) read only the counters: the timeline can hold 200 entries.
    const record = run > 1 ? await tracker.readCounts(jobId) : undefined;
    const leftMs = options.deadlineMs - (record?.workMs ?? 0);
    // A job put back by ops has a fresh run limit.
    const runs = run - (record?.runsBeforeRevival ?? 0);
    if (runs > maxRuns || leftMs <= 0) {
      const why =
        runs > maxRuns ? `ran ${runs - 1} times` : `used its ${formatSeconds(options.deadlineMs)} of work`;
      await tracker.recordFailure(jobId, lastError(new Error(`Job ${why} without finishing`), 'job'), true);
      append({ kind: 'job_failed', layer: 'job', target: 'agent', reason: `job ${why}` });
      flush();
      track(outcome('dead_lettered'));
      await Promise.all(pending);
      throw new UnrecoverableError(
        `Job ${why} without finishing; last error: ${record?.lastError?.message ?? 'none'}`,
      );
    }

    append({
      kind: 'job_started',
      layer: 'job',
      target: 'agent',
      attempt: job.attemptsMade + 1,
      maxAttempts: policy.maxRetries + 1,
    });
    const startedAtMs = Date.now();
    const onRetry = (event: RetryEvent) => {
      options.onRetry?.(event);
      track(stats.countRetry(layerOf(event.layer), event.target ?? 'unknown', event.reason));
      append({
        kind: 'retry',
        layer: layerOf(event.layer),
        target: event.target ?? 'unknown',
        attempt: event.attempt,
        maxAttempts: event.maxAttempts,
        delayMs: event.delayMs,
        reason: event.reason,
        ...(event.status === undefined ? {} : { status: event.status }),
      });
      flush();
      // The design notes' live status line, for ops watching the job.
      track(
        job.updateProgress({
          status: `retrying in ${formatSeconds(event.delayMs)} (attempt ${event.attempt}/${event.maxAttempts})`,
          layer: event.layer,
          target: event.target,
          atMs: Date.now(),
        }),
      );
    };

    try {
      const result = await options.handle(parsed.data, {
        jobId,
        run,
        createdAtMs: job.timestamp,
        signal,
        deadlineAtMs: startedAtMs + leftMs,
        onRetry,
        logger,
      });
      append({ kind: 'job_completed', layer: 'job', target: 'agent' });
      // Counted fleet-wide by BullMQ's metrics as it completes the job (`FleetStats.jobsTotal`).
      options.onOutcome?.('completed');
      // Taken either way: left in `unwritten`, the `finally` below would write them after all.
      const entries = takeUnwritten();
      // A job's first run that met no retry leaves no timeline: BullMQ's job already holds when it started
      // and finished, and ops show those two entries from it (`QueueInspector.job`). Stored, such a
      // timeline would outlive the job (kept 7 days) by weeks, one key per job.
      if (client && (run > 1 || wroteEntries)) {
        recordCompletedRun(client, {
          timelineKey: tracker.timelineKey(jobId),
          ttlMs: tracker.ttlMs,
          entries,
        }).catch(trackingFailed);
      }
      return result;
    } catch (error) {
      // Only a run that did not complete leaves work time for a later run to count against the deadline.
      track(tracker.addWorkMs(jobId, Date.now() - startedAtMs));
      throw await decide(error);
    } finally {
      flush();
      await Promise.all(pending);
    }

    async function decide(error: unknown): Promise<Error> {
      const c = classifyError(error);
      const last = lastError(error, 'job');
      if (!c.retryable) {
        await tracker.recordFailure(jobId, last, false);
        track(outcome('failed'));
        append({
          kind: 'job_failed',
          layer: 'job',
          target: 'agent',
          reason: c.reason,
          ...statusOf(c.status),
        });
        logger.error(
          { layer: 'job', reason: c.reason, status: c.status },
          `Job ${jobId} failed for good: ${last.message}`,
        );
        return new UnrecoverableError(last.message);
      }
      if (c.retryAfterMs !== undefined) {
        // A little spread, so that jobs held back by the same limit do not all return in the same instant.
        const delayMs = Math.ceil(c.retryAfterMs + random() * Math.min(1_000, c.retryAfterMs * 0.1));
        await tracker.recordRequeue(jobId, last);
        track(outcome('delayed', c.reason));
        track(stats.countRetry('job', 'agent', c.reason));
        append({
          kind: 'job_delayed',
          layer: 'job',
          target: 'agent',
          delayMs,
          reason: c.reason,
          ...statusOf(c.status),
        });
        logger.warn(
          { layer: 'job', reason: c.reason, delayMs },
          `Delaying job ${jobId} by ${formatSeconds(delayMs)} until the upstream accepts calls again (${c.reason})`,
        );
        // Its entries go first: the job may run again the moment it is due.
        flush();
        await job.moveToDelayed(Date.now() + delayMs, token);
        return new DelayedError();
      }
      const requeue = job.attemptsMade + 1;
      if (requeue > policy.maxRetries) {
        await tracker.recordFailure(jobId, last, true);
        track(outcome('dead_lettered'));
        append({
          kind: 'job_failed',
          layer: 'job',
          target: 'agent',
          reason: `dead-lettered after ${policy.maxRetries} requeues: ${c.reason}`,
        });
        logger.error(
          { layer: 'job', reason: c.reason },
          `Job ${jobId} dead-lettered after ${policy.maxRetries} requeues: ${last.message}`,
        );
        return error instanceof Error ? error : new Error(last.message);
      }
      const delayMs = Math.round(backoffDelayMs(requeue - 1, policy, random));
      await tracker.recordRequeue(jobId, last);
      track(outcome('requeued', c.reason));
      track(stats.countRetry('job', 'agent', c.reason));
      append({
        kind: 'job_requeued',
        layer: 'job',
        target: 'agent',
        attempt: requeue,
        maxAttempts: policy.maxRetries,
        delayMs,
        reason: c.reason,
        ...statusOf(c.status),
      });
      logger.warn(
        { layer: 'job', attempt: requeue, maxAttempts: policy.maxRetries, delayMs, reason: c.reason },
        `Re-queuing job ${jobId} (attempt ${requeue}/${policy.maxRetries}) after ${formatSeconds(delayMs)}`,
      );
      return new JobRequeueError(last.message, delayMs, error);
    }
  };

  const worker = new Worker<AgentJobData>(agentQueueName, processor, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    ...(options.workerId === undefined ? {} : { name: options.workerId }),
    lockDuration: options.lockDurationMs ?? defaultAgentWorkerOptions.lockDurationMs,
    // A job whose worker died goes back to the queue as many times as it may run at all: its side effects
    // are recorded, so running it again is safe, and `maxRuns` then fails it with its reason in the
    // tracking. BullMQ's default (1) fails a job whose worker died twice, with no record for ops.
    maxStalledCount: maxRuns,
    stalledInterval: options.stalledIntervalMs ?? defaultAgentWorkerOptions.stalledIntervalMs,
    // Counts completed jobs inside BullMQ's own completion script, per minute for the week that completed
    // jobs are kept: the fleet's `completed` total without a command of ours per job.
    metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
    settings: {
      backoffStrategy: (attemptsMade, _type, err) =>
        err instanceof JobRequeueError
          ? err.requeueDelayMs
          : Math.round(backoffDelayMs(attemptsMade - 1, policy, random)),
    },
  });
  return worker;
}

function lastError(error: unknown, fallbackLayer: TimelineLayer): LastError {
  const e = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  return {
    message: error instanceof Error ? error.message : String(error),
    errorClass: error instanceof Error ? error.name : typeof error,
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof e.status === 'number' ? { status: e.status } : {}),
    layer: typeof e.layer === 'string' ? e.layer : fallbackLayer,
    ...(typeof e.target === 'string' ? { target: e.target } : {}),
    atMs: Date.now(),
  };
}

function layerOf(layer: string | undefined): TimelineLayer {
  return layer === 'tool' || layer === 'job' ? layer : 'request';
}

function statusOf(status: number | undefined): { status?: number } {
  return status === undefined ? {} : { status };
}

function child(logger: Logger, fields: Record<string, unknown>): Logger {
  const withFields =
    (log: Logger['info']) =>
    (more: Record<string, unknown>, message: string): void =>
      log({ ...fields, ...more }, message);
  return {
    debug: withFields(logger.debug.bind(logger)),
    info: withFields(logger.info.bind(logger)),
    warn: withFields(logger.warn.bind(logger)),
    error: withFields(logger.error.bind(logger)),
  };
}
