/** Shared by the ops server's tests; not exported from the package. */
import { Writable } from 'node:stream';
import { loadConfig, type RunnerConfig } from '@runner/config';
import {
  type AgentJobContext,
  createAgentQueue,
  createAgentWorker,
  exampleJobData,
  QueueInspector,
  type TimelineEntry,
} from '@runner/queue';
import type { RetryEvent, RetryPolicy } from '@runner/retry';
import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';

export const token = 'test-ops-token-5b1e9c7d2a';

/** The job policy of the tests: few requeues, short waits. */
export const fastJobPolicy: RetryPolicy = {
  maxRetries: 1,
  initialDelayMs: 10,
  maxDelayMs: 20,
  multiplier: 2,
  jitter: 'none',
};

export const silentLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** The config `main.ts` would load for these variables, listening on a free loopback port by default. */
export function opsConfig(redisUrl: string, prefix: string, env: Record<string, string> = {}): RunnerConfig {
  return loadConfig({
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    OPS_PORT: '0',
    OPS_HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    ...env,
  });
}

export const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });
export const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

/** A request with a bounded wait: a test fails with a message instead of hanging. */
export function call(
  url: string,
  headers: Record<string, string> = {},
  init: { method?: string; timeoutMs?: number } = {},
): Promise<Response> {
  return fetch(url, {
    method: init.method ?? 'GET',
    headers,
    signal: AbortSignal.timeout(init.timeoutMs ?? 5_000),
  });
}

/** The sample's value in Prometheus text, or 0 when there is no such sample. */
export function sample(metrics: string, series: string): number {
  const line = metrics.split('\n').find((text) => text.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/** A lower layer's retry as `retryWithBackoff` reports it. */
export function retryEvent(
  layer: string,
  target: string,
  status: number,
  delayMs: number,
  attempt = 2,
): RetryEvent {
  return {
    layer,
    target,
    attempt,
    maxAttempts: 6,
    delayMs,
    delaySource: 'backoff',
    reason: `HTTP ${status}`,
    status,
    error: new Error(`HTTP ${status}`),
  };
}

/** JSON lines a pino logger writes, kept for assertions. */
export function captureStream(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

/**
 * The agent queue with a real worker on `prefix`, whose runs do what `handle` says; `run` adds a job and
 * waits (bounded) until it has finished or failed for good.
 */
export async function startQueueWithWorker(
  redisUrl: string,
  prefix: string,
  handle: (jobId: string, context: AgentJobContext) => Promise<unknown>,
) {
  const connection = { url: redisUrl, maxRetriesPerRequest: null };
  const redis = new Redis(redisUrl);
  const queue = createAgentQueue({ connection, prefix, policy: fastJobPolicy });
  const events = new QueueEvents('agent-jobs', { connection, prefix });
  const worker = createAgentWorker({
    connection,
    redis,
    prefix,
    concurrency: 1,
    deadlineMs: 60_000,
    policy: fastJobPolicy,
    logger: silentLogger,
    handle: (_data, context) => handle(context.jobId, context),
  });
  await events.waitUntilReady();
  const inspector = new QueueInspector(queue, redis, prefix);
  return {
    redis,
    inspector,
    /** Adds a job and waits until it completed or failed for good; resolves with its timeline. */
    async run(jobId: string): Promise<TimelineEntry[]> {
      const job = await queue.add('issues.opened', exampleJobData(jobId), { jobId });
      // A job that fails for good rejects here, which some tests want; its state below says whether it ended.
      await job.waitUntilFinished(events, 10_000).catch(() => {});
      const details = await inspector.job(jobId);
      if (
        details?.state !== 'completed' &&
        details?.state !== 'dead-lettered' &&
        details?.state !== 'failed'
      ) {
        throw new Error(`Job ${jobId} did not finish within 10 s (state: ${details?.state ?? 'gone'})`);
      }
      return details.timeline;
    },
    /** Waits (bounded) until a job already added completes; rejects when it fails. */
    async finished(jobId: string): Promise<void> {
      const job = await queue.getJob(jobId);
      if (job === undefined) throw new Error(`No job ${jobId}`);
      await job.waitUntilFinished(events, 10_000);
    },
    async close(): Promise<void> {
      await worker.close();
      await events.close();
      await queue.close();
      redis.disconnect();
    },
  };
}

/** `promise`, or a rejection naming `what` after `ms`: a test fails with a message instead of hanging. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Deletes every key under `prefix`, so tests on a shared Redis leave nothing behind. */
export async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
