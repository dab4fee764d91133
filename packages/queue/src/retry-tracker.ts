import { jobRetention } from './agent-queue.ts';
import type { RedisClient } from './redis-client.ts';
import type { TimelineEntry } from './timeline.ts';

/** The last error of a job, as ops read it. */
export interface LastError {
  message: string;
  /** The error's class name: `LlmError`, `GitHubError`, ... */
  errorClass: string;
  code?: string;
  status?: number;
  layer?: string;
  target?: string;
  atMs: number;
}

/** What Redis keeps about one job's retries (the design notes' `job:retry:{jobId}`). */
export interface JobRetryRecord {
  /** Times the job went back to the queue, by backoff or until an upstream's stated time. */
  retryCount: number;
  /** Work time of all its runs together, for the job deadline. In ms. */
  workMs: number;
  lastError: LastError | undefined;
  deadLettered: boolean;
  /** Runs the job had started when ops last put it back (0 if never): its run limit counts from there. */
  runsBeforeRevival: number;
  timeline: TimelineEntry[];
}

/** Timeline entries kept per job; the oldest go first. */
export const maxTimelineEntries = 200;

/**
 * Per-job retry tracking in Redis, under the queue prefix: a hash `<prefix>:job:retry:<id>` with the
 * counts and the last error, and a capped list `<prefix>:job:retry:<id>:timeline`. Both expire with the
 * failed job's retention, renewed on every write.
 */
export class RetryTracker {
  private readonly redis: RedisClient;
  private readonly prefix: string;
  /** How long a job's tracking outlives its last write. In ms. */
  readonly ttlMs: number;

  constructor(redis: RedisClient, prefix: string, ttlMs: number = jobRetention.failedMs) {
    this.redis = redis;
    this.prefix = prefix;
    this.ttlMs = ttlMs;
  }

  key(jobId: string): string {
    return `${this.prefix}:job:retry:${jobId}`;
  }

  /** The job's capped list of timeline entries, oldest first. */
  timelineKey(jobId: string): string {
    return `${this.key(jobId)}:timeline`;
  }

  /** Appends entries in order, in one write. */
  async append(jobId: string, ...entries: TimelineEntry[]): Promise<void> {
    const list = this.timelineKey(jobId);
    await this.redis
      .multi()
      .rpush(list, ...entries.map((entry) => JSON.stringify(entry)))
      .ltrim(list, -maxTimelineEntries, -1)
      .pexpire(list, this.ttlMs)
      .exec();
  }

  async recordRequeue(jobId: string, error: LastError): Promise<void> {
    await this.redis
      .multi()
      .hincrby(this.key(jobId), 'retryCount', 1)
      .hset(this.key(jobId), 'lastError', JSON.stringify(error))
      .pexpire(this.key(jobId), this.ttlMs)
      .exec();
  }

  async recordFailure(jobId: string, error: LastError, deadLettered: boolean): Promise<void> {
    const multi = this.redis
      .multi()
      .hset(this.key(jobId), 'lastError', JSON.stringify(error), 'deadLettered', deadLettered ? '1' : '0')
      .pexpire(this.key(jobId), this.ttlMs);
    if (deadLettered) multi.sadd(this.deadLetteredKey(), jobId);
    await multi.exec();
  }

  /**
   * A dead-lettered job put back by ops: it keeps its history and gets a fresh work-time budget, and its
   * run limit counts from `runsSoFar` (BullMQ's `attemptsStarted`, which keeps counting).
   */
  async recordRevived(jobId: string, runsSoFar: number): Promise<void> {
    await this.redis
      .multi()
      .hset(this.key(jobId), 'deadLettered', '0', 'workMs', '0', 'runsBeforeRevival', String(runsSoFar))
      .srem(this.deadLetteredKey(), jobId)
      .exec();
  }

  /** Forgets a job's tracking, when ops remove the job. */
  async forget(jobId: string): Promise<void> {
    await this.redis
      .multi()
      .del(this.key(jobId), this.timelineKey(jobId))
      .srem(this.deadLetteredKey(), jobId)
      .exec();
  }

  /** Ids of the jobs that ran out of requeues (some may since have expired from the failed set). */
  async deadLetteredIds(): Promise<string[]> {
    return this.redis.smembers(this.deadLetteredKey());
  }

  /** How many jobs are dead-lettered; cheap enough for every metrics scrape. */
  async deadLetteredCount(): Promise<number> {
    return this.redis.scard(this.deadLetteredKey());
  }

  private deadLetteredKey(): string {
    return `${this.prefix}:job:dead-lettered`;
  }

  async addWorkMs(jobId: string, ms: number): Promise<void> {
    await this.redis
      .multi()
      .hincrby(this.key(jobId), 'workMs', Math.round(ms))
      .pexpire(this.key(jobId), this.ttlMs)
      .exec();
  }

  async read(jobId: string): Promise<JobRetryRecord> {
    const [counts, timeline] = await Promise.all([
      this.readCounts(jobId),
      this.redis.lrange(this.timelineKey(jobId), 0, -1),
    ]);
    return { ...counts, timeline: timeline.map((line) => JSON.parse(line) as TimelineEntry) };
  }

  /** The record without its timeline: what a job run needs at its start, in one small read. */
  async readCounts(jobId: string): Promise<Omit<JobRetryRecord, 'timeline'>> {
    const hash = await this.redis.hgetall(this.key(jobId));
    return {
      retryCount: Number(hash.retryCount ?? 0),
      workMs: Number(hash.workMs ?? 0),
      lastError: hash.lastError === undefined ? undefined : (JSON.parse(hash.lastError) as LastError),
      deadLettered: hash.deadLettered === '1',
      runsBeforeRevival: Number(hash.runsBeforeRevival ?? 0),
    };
  }
}
