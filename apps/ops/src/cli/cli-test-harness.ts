// Test-only: a real queue and worker on a test Redis, and runCli driven in-process with captured output.
import {
  type AgentJobContext,
  type AgentJobData,
  type AgentQueue,
  createAgentQueue,
  createAgentWorker,
} from '@runner/queue';
import type { RetryPolicy } from '@runner/retry';
import { uniquePrefix } from '@runner/testkit';
import { type Job, QueueEvents, type Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { type RunCliOptions, runCli } from './run-cli.ts';

/** Quick numbers so that a job is dead-lettered in milliseconds: 3 runs, 10-20 ms apart. */
export const fastJobPolicy: RetryPolicy = {
  maxRetries: 2,
  initialDelayMs: 10,
  maxDelayMs: 20,
  multiplier: 2,
  jitter: 'none',
};

const silent = { debug() {}, info() {}, warn() {}, error() {} };

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one command line against `env`, as `runner-ops` would, capturing what it writes. */
export async function runCaptured(
  argv: readonly string[],
  env: Record<string, string>,
  extra: Partial<RunCliOptions> = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    env,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    isTTY: false,
    now: Date.now,
    ...extra,
  });
  return { code, stdout, stderr };
}

export type JobHandler = (data: AgentJobData, context: AgentJobContext) => Promise<unknown>;

/** A queue and a real agent worker on their own key prefix; the test decides what each job does. */
export interface QueueScene {
  prefix: string;
  env: Record<string, string>;
  queue: AgentQueue;
  worker: Worker<AgentJobData>;
  /** Runs `argv` with this scene's REDIS_URL and QUEUE_PREFIX. */
  cli(argv: readonly string[], extra?: Partial<RunCliOptions>): Promise<CliResult>;
  /** Adds a job with `jobId` = its delivery id. */
  add(data: AgentJobData): Promise<Job<AgentJobData>>;
  /** Waits, bounded, until the job completes (true) or fails for good (false). */
  finished(job: Job<AgentJobData>, timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

export async function startQueueScene(redisUrl: string, handle: JobHandler): Promise<QueueScene> {
  const prefix = uniquePrefix('ops-cli');
  const connection = { url: redisUrl, maxRetriesPerRequest: null };
  const queue = createAgentQueue({ connection, prefix, policy: fastJobPolicy });
  const events = new QueueEvents('agent-jobs', { connection, prefix });
  const redis = new Redis(redisUrl);
  const worker = createAgentWorker({
    connection,
    redis,
    prefix,
    concurrency: 2,
    deadlineMs: 60_000,
    policy: fastJobPolicy,
    logger: silent,
    handle,
  });
  await Promise.all([events.waitUntilReady(), worker.waitUntilReady()]);
  const env = { REDIS_URL: redisUrl, QUEUE_PREFIX: prefix };
  return {
    prefix,
    env,
    queue,
    worker,
    cli: (argv, extra) => runCaptured(argv, env, extra),
    add: (data) => queue.add(data.event, data, { jobId: data.deliveryId }),
    finished: (job, timeoutMs = 10_000) =>
      job.waitUntilFinished(events, timeoutMs).then(
        () => true,
        () => false,
      ),
    async close() {
      await worker.close();
      await events.close();
      await queue.close();
      // Each scene's keys go with it, as on a shared REDIS_URL nobody else's must pile up.
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    },
  };
}
