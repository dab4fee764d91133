import {
  NotRetryableError,
  RetriesExhaustedError,
  RetryAfterTooLongError,
  type RetryEvent,
  type RetryPolicy,
} from '@runner/retry';
import { type RedisHandle, startRedis, uniquePrefix } from '@runner/testkit';
import { type Job, QueueEvents, type Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AgentJobData } from './agent-job.ts';
import { type AgentQueue, createAgentQueue } from './agent-queue.ts';
import { type AgentJobContext, createAgentWorker } from './agent-worker.ts';
import { FleetStats } from './fleet-stats.ts';
import { jobStartSliceMs } from './job-starts.ts';
import { QueueInspector } from './queue-inspector.ts';
import { maxTimelineEntries, RetryTracker } from './retry-tracker.ts';
import { exampleJobData } from './test-fixtures.ts';

const fastJobPolicy: RetryPolicy = {
  maxRetries: 5,
  initialDelayMs: 20,
  maxDelayMs: 100,
  multiplier: 2,
  jitter: 'none',
};
const silent = { debug() {}, info() {}, warn() {}, error() {} };
/** A lower layer's retry: it makes a run worth a timeline. */
const aRetry: RetryEvent = {
  attempt: 2,
  maxAttempts: 6,
  delayMs: 1,
  delaySource: 'backoff',
  reason: 'HTTP 503',
  error: null,
};

let server: RedisHandle;
let redis: Redis;
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function setup(
  handle: (data: AgentJobData, ctx: AgentJobContext) => Promise<unknown>,
  extra: { deadlineMs?: number; maxRuns?: number } = {},
) {
  const prefix = uniquePrefix('queue');
  const connection = { url: server.url, maxRetriesPerRequest: null };
  const queue: AgentQueue = createAgentQueue({ connection, prefix, policy: fastJobPolicy });
  const events = new QueueEvents('agent-jobs', { connection, prefix });
  await events.waitUntilReady();
  const worker: Worker<AgentJobData> = createAgentWorker({
    connection,
    redis,
    prefix,
    concurrency: 2,
    deadlineMs: extra.deadlineMs ?? 60_000,
    policy: fastJobPolicy,
    ...(extra.maxRuns === undefined ? {} : { maxRuns: extra.maxRuns }),
    logger: silent,
    handle,
  });
  closers.push(
    () => queue.close(),
    () => events.close(),
    () => worker.close(),
  );
  const tracker = new RetryTracker(redis, prefix);
  /** Adds a job and waits (bounded) until it completes or fails for good. */
  const run = async (id: string, data: unknown = exampleJobData(id)) => {
    const job = (await queue.add('issues.opened', data as AgentJobData, { jobId: id })) as Job<AgentJobData>;
    const outcome: { completed: boolean; value?: unknown; error?: Error } = await job
      .waitUntilFinished(events, 15_000)
      .then(
        (value: unknown) => ({ completed: true, value }),
        (error: unknown) => ({ completed: false, error: error as Error }),
      );
    const final = await queue.getJob(id);
    return { ...outcome, job: final!, record: await tracker.read(id) };
  };
  return { run, queue, events, tracker, prefix, worker };
}

/** Records what each socket write of an ioredis client carries from now on (a write is one syscall). */
function recordWrites(client: unknown): string[] {
  const writes: string[] = [];
  const stream = (client as { stream: Record<'_write' | '_writev', (...args: unknown[]) => unknown> }).stream;
  const text = (chunk: unknown) => (Buffer.isBuffer(chunk) ? chunk.toString('latin1') : String(chunk));
  const original = { write: stream._write.bind(stream), writev: stream._writev.bind(stream) };
  stream._write = (chunk: unknown, ...rest: unknown[]) => {
    writes.push(text(chunk));
    return original.write(chunk, ...rest);
  };
  stream._writev = (chunks: unknown, ...rest: unknown[]) => {
    writes.push((chunks as Array<{ chunk: unknown }>).map(({ chunk }) => text(chunk)).join(''));
    return original.writev(chunks, ...rest);
  };
  return writes;
}

/** A 429 whose `Retry-After` is longer than the lower layers wait: the job is delayed until then. */
function rateLimitedFor(ms: number): RetryAfterTooLongError {
  return new RetryAfterTooLongError({
    attempts: 1,
    reason: 'HTTP 429',
    status: 429,
    retryAt: new Date(Date.now() + ms),
    maxWaitMs: 60_000,
  });
}

describe('createAgentWorker: the job level', () => {
  it('starts each job of jobStartSliceMs or more in a turn of the event loop of its own, even when BullMQ hands over many at once', async () => {
    const prefix = uniquePrefix('turns');
    const connection = { url: server.url, maxRetriesPerRequest: null };
    const queue = createAgentQueue({ connection, prefix, policy: fastJobPolicy });
    closers.push(() => queue.close());
    await queue.pause();
    const ids = Array.from({ length: 40 }, (_, i) => `turns-${i}`);
    await queue.addBulk(
      ids.map((id) => ({ name: 'issues.opened', data: exampleJobData(id), opts: { jobId: id } })),
    );
    // Counts turns of the loop: one re-armed immediate runs once per check phase.
    let turn = 0;
    let ticker = setImmediate(function tick() {
      turn += 1;
      ticker = setImmediate(tick);
    });
    closers.push(async () => clearImmediate(ticker));
    const startedInTurn: number[] = [];
    const worker = createAgentWorker({
      connection,
      redis,
      prefix,
      concurrency: 10,
      deadlineMs: 60_000,
      policy: fastJobPolicy,
      logger: silent,
      handle: async () => {
        startedInTurn.push(turn);
        const end = performance.now() + jobStartSliceMs;
        while (performance.now() < end) {
          // A job's synchronous work.
        }
      },
    });
    closers.push(() => worker.close());
    const done = new Promise<void>((resolve) => {
      let completed = 0;
      worker.on('completed', () => {
        completed += 1;
        if (completed === ids.length) resolve();
      });
    });
    await worker.waitUntilReady();
    await queue.resume();
    await done;
    expect(startedInTurn).toHaveLength(ids.length);
    expect(new Set(startedInTurn).size).toBe(ids.length);
  });

  it('completes a clean first run storing no timeline, counted by BullMQ; ops see its start and end', async () => {
    const { run, queue, tracker, prefix } = await setup(async () => 'done');
    const { completed, value, record, job } = await run('job-ok');
    expect(completed).toBe(true);
    expect(value).toBe('done');
    expect(record.timeline).toEqual([]);
    expect(record.retryCount).toBe(0);
    expect(await redis.exists(tracker.timelineKey('job-ok'))).toBe(0);
    expect(await new FleetStats(redis, prefix).jobsTotal()).toMatchObject({ completed: 1 });
    const details = await new QueueInspector(queue, redis, prefix).job('job-ok');
    expect(details?.timeline).toEqual([
      expect.objectContaining({ kind: 'job_started', atMs: job.processedOn, attempt: 1, maxAttempts: 6 }),
      expect.objectContaining({ kind: 'job_completed', atMs: job.finishedOn }),
    ]);
  });

  it('sends a completed run’s tracking in the same socket write as BullMQ’s completion', async () => {
    let writes: string[] = [];
    const { run, worker, tracker } = await setup(async (data, ctx) => {
      // A retry is written at once; the run's last entry then waits for its completion.
      ctx.onRetry(aRetry);
      if (data.deliveryId !== 'job-one-write') return 'done';
      // Once Redis has answered a PING on each connection, it has answered the retry's writes sent before it.
      const bullClient = (await worker.client) as unknown as Redis;
      await Promise.all([redis.ping(), bullClient.ping()]);
      writes = recordWrites(bullClient);
      return 'done';
    });
    // A first job with a retry loads the scripts (a script's first call may go out twice: EVALSHA, then
    // EVAL). A clean run would not: it writes no timeline.
    await run('job-warm-up');
    const { record } = await run('job-one-write');
    // The write that carries the run's timeline entries carries BullMQ's moveToFinished too: two scripts
    // (other commands, such as a lock renewal, may go out in writes of their own meanwhile).
    const tracking = writes.filter((write) => write.includes('"kind":"job_completed"'));
    expect(tracking).toHaveLength(1);
    expect(tracking[0]?.match(/\r\nevalsha\r\n/gi)).toHaveLength(2);
    expect(record.timeline.map((e) => e.kind)).toEqual(['job_started', 'retry', 'job_completed']);
    expect(await redis.pttl(tracker.timelineKey('job-one-write'))).toBeGreaterThan(0);
  });

  it('sends what a job with nothing to wait for writes on BullMQ’s connection in one socket write', async () => {
    let writes: string[] = [];
    const { run, worker, prefix } = await setup(async (data) => {
      // A tool's record, as `startWorker` keeps them on BullMQ's connection; not awaited, as the tools do.
      const bullClient = (await worker.client) as unknown as Redis;
      void bullClient.set(`${prefix}:record:${data.deliveryId}`, 'posted');
      return 'done';
    });
    await run('job-warm-up');
    writes = recordWrites((await worker.client) as unknown as Redis);
    const { completed } = await run('job-one-turn');
    expect(completed).toBe(true);
    // The record and BullMQ's moveToFinished (a script, which also counts the completion): one write.
    const record = writes.filter((write) => write.includes(`${prefix}:record:job-one-turn`));
    expect(record).toHaveLength(1);
    expect(record[0]).toMatch(/\r\nevalsha\r\n/i);
    expect(await new FleetStats(redis, prefix).jobsTotal()).toMatchObject({ completed: 2 });
  });

  it('keeps a full timeline to its cap when a completed run adds to it, and counts the completion', async () => {
    const { run, tracker, prefix } = await setup(async (_, ctx) => {
      ctx.onRetry(aRetry);
      return 'done';
    });
    const old = { kind: 'retry', layer: 'request', target: 'llm', atMs: 1 } as const;
    await tracker.append('job-full', ...Array.from({ length: maxTimelineEntries }, () => old));
    const { record } = await run('job-full');
    expect(record.timeline).toHaveLength(maxTimelineEntries);
    expect(record.timeline.slice(-3).map((e) => e.kind)).toEqual(['job_started', 'retry', 'job_completed']);
    expect(await redis.pttl(tracker.timelineKey('job-full'))).toBeGreaterThan(0);
    expect(await new FleetStats(redis, prefix).jobsTotal()).toMatchObject({ completed: 1, failed: 0 });
  });

  it('requeues a retryable failure with backoff and then completes, keeping count and last error', async () => {
    let runs = 0;
    const { run } = await setup(async () => {
      runs++;
      if (runs === 1)
        throw new RetriesExhaustedError({
          attempts: 6,
          reason: 'HTTP 503',
          status: 503,
          cause: new Error('503'),
        });
      return 'second run';
    });
    const { completed, job, record } = await run('job-requeue');
    expect(completed).toBe(true);
    expect(runs).toBe(2);
    // BullMQ counts the failed run and the completing one.
    expect(job.attemptsMade).toBe(2);
    expect(record.retryCount).toBe(1);
    expect(record.lastError).toMatchObject({ errorClass: 'RetriesExhaustedError', status: 503 });
    const requeue = record.timeline.find((e) => e.kind === 'job_requeued');
    expect(requeue).toMatchObject({ attempt: 1, maxAttempts: 5, delayMs: 20, reason: 'HTTP 503' });
  });

  it('delays a job until the upstream’s stated time without using a retry', async () => {
    let runs = 0;
    const startedAt: number[] = [];
    const { run } = await setup(async () => {
      runs++;
      startedAt.push(Date.now());
      if (runs === 1) {
        throw rateLimitedFor(1_000);
      }
      return 'after the wait';
    });
    const { completed, job, record } = await run('job-delayed');
    expect(completed).toBe(true);
    expect(startedAt[1]! - startedAt[0]!).toBeGreaterThanOrEqual(1_000);
    // Only the completing run counts as an attempt: the delayed one used up no retry.
    expect(job.attemptsMade).toBe(1);
    expect(job.attemptsStarted).toBe(2);
    expect(record.retryCount).toBe(1);
    expect(record.timeline.find((e) => e.kind === 'job_delayed')).toMatchObject({
      reason: 'HTTP 429',
      status: 429,
    });
  });

  it('fails a non-retryable error at once, without requeue', async () => {
    let runs = 0;
    const { run } = await setup(async () => {
      runs++;
      throw new NotRetryableError({
        attempts: 1,
        reason: 'HTTP 401',
        status: 401,
        cause: new Error('Bad credentials'),
      });
    });
    const { completed, record } = await run('job-fatal');
    expect(completed).toBe(false);
    expect(runs).toBe(1);
    expect(record.deadLettered).toBe(false);
    expect(record.lastError).toMatchObject({ status: 401 });
  });

  it('dead-letters a poison job after 5 requeues, with its timeline', async () => {
    let runs = 0;
    const { run } = await setup(async () => {
      runs++;
      throw new RetriesExhaustedError({
        attempts: 6,
        reason: 'HTTP 503',
        status: 503,
        cause: new Error('503'),
      });
    });
    const { completed, job, record } = await run('job-poison');
    expect(completed).toBe(false);
    expect(runs).toBe(6);
    expect(await job.getState()).toBe('failed');
    expect(record.deadLettered).toBe(true);
    expect(record.retryCount).toBe(5);
    expect(record.timeline.filter((e) => e.kind === 'job_requeued').map((e) => e.delayMs)).toEqual([
      20, 40, 80, 100, 100,
    ]);
    expect(record.timeline.at(-1)).toMatchObject({ kind: 'job_failed' });
  });

  it('fails invalid job data at once and says what is wrong', async () => {
    let runs = 0;
    const { run } = await setup(async () => {
      runs++;
    });
    const { completed, error } = await run('job-invalid', { deliveryId: 'job-invalid', event: 'push' });
    expect(completed).toBe(false);
    expect(runs).toBe(0);
    expect(error?.message).toContain('Invalid job data');
    expect(error?.message).toContain('event');
  });

  it('records lower layers’ retries in the timeline and as the live status', async () => {
    const { run, queue } = await setup(async (_data, ctx) => {
      ctx.onRetry({
        attempt: 2,
        maxAttempts: 6,
        delayMs: 1_000,
        delaySource: 'server',
        reason: 'HTTP 429',
        status: 429,
        error: null,
        layer: 'request',
        target: 'llm',
      });
      ctx.onRetry({
        attempt: 2,
        maxAttempts: 4,
        delayMs: 2_000,
        delaySource: 'backoff',
        reason: 'HTTP 502',
        status: 502,
        error: null,
        layer: 'tool',
        target: 'comment_on_issue',
      });
      return 'ok';
    });
    const { record } = await run('job-timeline');
    expect(record.timeline.filter((e) => e.kind === 'retry')).toEqual([
      expect.objectContaining({
        layer: 'request',
        target: 'llm',
        attempt: 2,
        maxAttempts: 6,
        delayMs: 1_000,
        status: 429,
      }),
      expect.objectContaining({ layer: 'tool', target: 'comment_on_issue', delayMs: 2_000, status: 502 }),
    ]);
    const job = await queue.getJob('job-timeline');
    expect(job?.progress).toMatchObject({ status: 'retrying in 2.0s (attempt 2/4)' });
  });

  it('numbers a job put back by ops after its earlier runs, and gives it a fresh run limit', async () => {
    let healthy = false;
    const runs: number[] = [];
    const { run, queue, events, prefix } = await setup(
      async (_data, ctx) => {
        runs.push(ctx.run);
        if (healthy) return 'revived';
        throw rateLimitedFor(10);
      },
      { maxRuns: 2 },
    );
    const first = await run('job-revived');
    expect(first.completed).toBe(false);
    expect(first.record.deadLettered).toBe(true);
    // The third run found the limit reached before calling the handler.
    expect(runs).toEqual([1, 2]);

    healthy = true;
    expect(await new QueueInspector(queue, redis, prefix).retry('job-revived')).toBe('retried');
    const job = await queue.getJob('job-revived');
    expect(await job!.waitUntilFinished(events, 15_000)).toBe('revived');
    // Not run 1: an earlier run may have made side effects, which a first run would not look for.
    expect(runs).toEqual([1, 2, 4]);
  });

  it('passes what is left of the deadline down, and fails a job whose work time is used up', async () => {
    const deadlines: number[] = [];
    let runs = 0;
    const { run } = await setup(
      async (_data, ctx) => {
        runs++;
        deadlines.push(ctx.deadlineAtMs - Date.now());
        await new Promise((resolve) => setTimeout(resolve, 300));
        throw new RetriesExhaustedError({
          attempts: 1,
          reason: 'HTTP 503',
          status: 503,
          cause: new Error('503'),
        });
      },
      { deadlineMs: 500 },
    );
    const { completed, record } = await run('job-deadline');
    expect(completed).toBe(false);
    expect(runs).toBe(2);
    expect(deadlines[0]).toBeLessThanOrEqual(500);
    expect(deadlines[1]).toBeLessThanOrEqual(200);
    expect(record.deadLettered).toBe(true);
    expect(record.timeline.at(-1)?.reason).toMatch(/used its 0.5s of work/);
  });
});
