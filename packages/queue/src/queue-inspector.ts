import type { Job, JobType } from 'bullmq';
import type { AgentJobData } from './agent-job.ts';
import { type AgentQueue, agentQueueName } from './agent-queue.ts';
import { type CircuitReport, FleetStats } from './fleet-stats.ts';
import type { RedisClient } from './redis-client.ts';
import { type LastError, RetryTracker } from './retry-tracker.ts';
import type { TimelineEntry } from './timeline.ts';

/** The states ops filter by; `dead-lettered` is the part of `failed` that ran out of requeues. */
export const inspectableStates = [
  'waiting',
  'active',
  'delayed',
  'completed',
  'failed',
  'dead-lettered',
  'paused',
] as const;
export type InspectableState = (typeof inspectableStates)[number];

export interface QueueStatus {
  counts: Record<InspectableState, number>;
  isPaused: boolean;
  /** Workers connected to the queue now. */
  workers: number;
  /** Each upstream's circuit, as workers last reported it. */
  circuits: CircuitReport[];
  /** Retries by layer in the last hour, fleet-wide. */
  retriedLastHour: Record<'request' | 'tool' | 'job', number>;
}

/** One line of `runner-ops jobs`. */
export interface JobSummary {
  id: string;
  event: string;
  /** `owner/repo#number`. */
  target: string;
  state: string;
  /** Runs started, delayed ones included. */
  attempts: number;
  retryCount: number;
  lastError: string | undefined;
  /** When a delayed job runs next. Epoch ms. */
  nextRunAtMs: number | undefined;
  /** The live status line while a lower layer waits: `retrying in 2.0s (attempt 3/5)`. */
  status: string | undefined;
  createdAtMs: number;
}

/** Everything `runner-ops job <id>` shows. */
export interface JobDetails extends JobSummary {
  data: AgentJobData;
  lastErrorDetails: LastError | undefined;
  deadLettered: boolean;
  failedReason: string | undefined;
  result: unknown;
  timeline: TimelineEntry[];
}

export type RetryOutcome = 'retried' | 'not-found' | 'not-failed';

const bullStates: Record<Exclude<InspectableState, 'dead-lettered'>, JobType> = {
  waiting: 'waiting',
  active: 'active',
  delayed: 'delayed',
  completed: 'completed',
  failed: 'failed',
  paused: 'paused',
};

/**
 * What ops can see and do with the queue: counts, jobs with their retry history, and putting back,
 * removing, pausing and cleaning. The CLI and the ops server are thin shells around it.
 */
export class QueueInspector {
  private readonly queue: AgentQueue;
  private readonly redis: RedisClient;
  private readonly prefix: string;
  private readonly tracker: RetryTracker;
  private readonly stats: FleetStats;

  constructor(queue: AgentQueue, redis: RedisClient, prefix: string) {
    this.queue = queue;
    this.redis = redis;
    this.prefix = prefix;
    this.tracker = new RetryTracker(redis, prefix);
    this.stats = new FleetStats(redis, prefix);
  }

  async status(): Promise<QueueStatus> {
    const [counts, isPaused, workers, circuits, retriedLastHour, deadLettered] = await Promise.all([
      this.queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'paused'),
      this.queue.isPaused(),
      this.queue.getWorkersCount(),
      this.stats.circuits(),
      this.stats.retriedLastHour(),
      this.tracker.deadLetteredCount(),
    ]);
    return {
      counts: {
        waiting: counts.waiting ?? 0,
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        completed: counts.completed ?? 0,
        failed: counts.failed ?? 0,
        'dead-lettered': deadLettered,
        paused: counts.paused ?? 0,
      },
      isPaused,
      workers,
      circuits,
      retriedLastHour,
    };
  }

  /** Jobs in `state` (all states when absent), newest first, at most `limit`. */
  async jobs(options: { state?: InspectableState; limit?: number } = {}): Promise<JobSummary[]> {
    const limit = options.limit ?? 20;
    let jobs: Job<AgentJobData>[];
    if (options.state === 'dead-lettered') {
      jobs = (await this.deadLetteredJobs()).slice(0, limit);
    } else {
      const types = options.state ? [bullStates[options.state]] : Object.values(bullStates);
      jobs = (await this.queue.getJobs(types, 0, limit - 1, false)) as Job<AgentJobData>[];
      jobs.sort((a, b) => b.timestamp - a.timestamp);
      jobs = jobs.slice(0, limit);
    }
    return Promise.all(jobs.map((job) => this.summarise(job)));
  }

  async job(id: string): Promise<JobDetails | undefined> {
    const job = (await this.queue.getJob(id)) as Job<AgentJobData> | undefined;
    if (!job) return undefined;
    const [summary, record] = await Promise.all([this.summarise(job), this.tracker.read(id)]);
    return {
      ...summary,
      data: job.data,
      lastErrorDetails: record.lastError,
      deadLettered: record.deadLettered,
      failedReason: job.failedReason || undefined,
      result: job.returnvalue ?? undefined,
      timeline: record.timeline.length > 0 ? record.timeline : untroubledTimeline(job, summary.state),
    };
  }

  /** Puts a failed (or dead-lettered) job back in the queue, keeping its history. */
  async retry(id: string): Promise<RetryOutcome> {
    const job = await this.queue.getJob(id);
    if (!job) return 'not-found';
    if ((await job.getState()) !== 'failed') return 'not-failed';
    // The fresh budget and the timeline entry go first: a worker may take the job the moment it is back
    // in the queue, and must find it revived, with its run after the ops entry.
    await this.tracker.recordRevived(id, job.attemptsStarted);
    await this.tracker.append(id, {
      kind: 'job_retried_by_ops',
      layer: 'job',
      target: 'agent',
      atMs: Date.now(),
    });
    // attemptsStarted keeps counting: a job's run 1 is then its first ever, which no earlier run can have
    // left side effects for (a first run does not look up the tool records).
    await job.retry('failed', { resetAttemptsMade: true });
    return 'retried';
  }

  /** Puts back up to `limit` failed jobs, oldest failures first. Returns their ids. */
  async retryFailed(limit = 100): Promise<string[]> {
    const failed = await this.queue.getJobs(['failed'], 0, limit - 1, true);
    const retried: string[] = [];
    for (const job of failed) {
      if (job.id && (await this.retry(job.id)) === 'retried') retried.push(job.id);
    }
    return retried;
  }

  /** Removes a job and its retry tracking. False when there was no such job. */
  async remove(id: string): Promise<boolean> {
    const job = await this.queue.getJob(id);
    if (!job) return false;
    await job.remove();
    await this.tracker.forget(id);
    return true;
  }

  async pause(): Promise<void> {
    await this.queue.pause();
  }

  async resume(): Promise<void> {
    await this.queue.resume();
  }

  /** Removes finished jobs older than `olderThanMs`; returns how many. */
  async clean(state: 'completed' | 'failed', olderThanMs: number, limit = 10_000): Promise<number> {
    const ids = await this.queue.clean(olderThanMs, limit, state);
    await Promise.all(ids.map((id) => this.tracker.forget(id)));
    return ids.length;
  }

  private async deadLetteredJobs(): Promise<Job<AgentJobData>[]> {
    const ids = await this.tracker.deadLetteredIds();
    const jobs = await Promise.all(ids.map((id) => this.queue.getJob(id)));
    return jobs.filter((job): job is Job<AgentJobData> => job !== undefined);
  }

  private async summarise(job: Job<AgentJobData>): Promise<JobSummary> {
    const id = String(job.id);
    const [state, record, delayedScore] = await Promise.all([
      job.getState(),
      this.tracker.read(id),
      this.redis.zscore(`${this.prefix}:${agentQueueName}:delayed`, id),
    ]);
    const data = job.data as Partial<AgentJobData>;
    const progress = job.progress as { status?: unknown } | number | undefined;
    return {
      id,
      event: data.event ?? job.name,
      target: data.repository ? `${data.repository.owner}/${data.repository.name}#${data.issueNumber}` : '?',
      state: state === 'failed' && record.deadLettered ? 'dead-lettered' : state,
      attempts: job.attemptsStarted,
      retryCount: record.retryCount,
      lastError: firstLine(record.lastError?.message ?? (job.failedReason || undefined)),
      // BullMQ scores delayed jobs by run time × 4096 plus a counter; moveToDelayed leaves job.delay stale.
      nextRunAtMs:
        state === 'delayed' && delayedScore !== null ? Math.floor(Number(delayedScore) / 4096) : undefined,
      status:
        state === 'active' && typeof progress === 'object' && typeof progress.status === 'string'
          ? progress.status
          : undefined,
      createdAtMs: job.timestamp,
    };
  }
}

/**
 * The timeline of a job that stored none: a first run that meets no retry writes no entries (the worker
 * spares Redis a key per job), so its start and completion come from BullMQ's own times.
 */
function untroubledTimeline(job: Job<AgentJobData>, state: string): TimelineEntry[] {
  if (!job.processedOn) return [];
  const agentJob = { layer: 'job', target: 'agent' } as const;
  const started: TimelineEntry = {
    kind: 'job_started',
    ...agentJob,
    atMs: job.processedOn,
    attempt: 1,
    maxAttempts: job.opts.attempts ?? 1,
  };
  if (state !== 'completed' || !job.finishedOn) return [started];
  return [started, { kind: 'job_completed', ...agentJob, atMs: job.finishedOn }];
}

function firstLine(text: string | undefined): string | undefined {
  return text?.split('\n', 1)[0];
}
