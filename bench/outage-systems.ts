// The two systems of benchmark 3, each a queue with its workers in front of one fake upstream:
// "naive" nests three layers that each retry on their own; "runner" is the runner's stack (LlmClient
// with the shared breaker, cooldown and retry budget under createAgentWorker's job level).
import { createAgentQueue, createAgentWorker, exampleJobData } from '@runner/queue';
import {
  defaultPolicies,
  type RetryOptions,
  retryWithBackoff,
  seededRandom,
  silentLogger,
} from '@runner/retry';
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createRunnerLlm } from './runner-llm.ts';

export interface SystemOptions {
  redisUrl: string;
  prefix: string;
  upstreamUrl: string;
  workers: number;
  concurrency: number;
  /** Each upstream attempt's timeout, the same in both systems. In ms. */
  attemptTimeoutMs: number;
  /** The runner's circuit cool-down: one probe per interval while the upstream is down. In ms. */
  probeIntervalMs: number;
  /** The runner's retry budget window: a job the budget refuses is delayed this long. In ms. */
  retryBudgetWindowMs: number;
  seed: number;
}

/** When each job finished (epoch ms), and whether it failed for good rather than completed. */
export interface Finish {
  atMs: number;
  failed: boolean;
}

export interface OutageSystem {
  enqueue(index: number): Promise<void>;
  readonly finishes: readonly Finish[];
  close(): Promise<void>;
}

const messages = [{ role: 'user' as const, content: 'hi' }];
const requestBody = JSON.stringify({ model: 'bench', messages });

/** One request to the upstream; an HTTP error carries its status, as classifyError reads it. */
async function callUpstream(url: string, signal: AbortSignal): Promise<void> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: requestBody,
    signal,
  });
  await response.arrayBuffer();
  if (!response.ok) throw Object.assign(new Error(`HTTP ${response.status}`), { status: response.status });
}

/** Three attempts with exponential backoff and full jitter: what each naive layer does on its own. */
const naiveLayer = (initialDelayMs: number): RetryOptions => ({
  maxRetries: 2,
  initialDelayMs,
  maxDelayMs: 10_000,
  multiplier: 2,
  jitter: 'full',
});

/** Naive: request (100 ms, 200 ms), tool (300 ms, 600 ms) and job (BullMQ, 500 ms, 1 s) levels, 3 × 3 × 3 attempts. */
export function startNaiveSystem(options: SystemOptions): OutageSystem {
  const connection = { url: options.redisUrl, maxRetriesPerRequest: null };
  const queue = new Queue('naive', {
    connection,
    prefix: options.prefix,
    defaultJobOptions: { attempts: 3, backoff: { type: 'exponential', delay: 500 } },
  });
  const finishes: Finish[] = [];
  const workers = Array.from({ length: options.workers }, (_, w) => {
    const random = seededRandom(options.seed * 10 + w);
    const worker = new Worker(
      'naive',
      () =>
        retryWithBackoff(
          () =>
            retryWithBackoff((_attempt, signal) => callUpstream(options.upstreamUrl, signal), {
              ...naiveLayer(100),
              timeoutMs: options.attemptTimeoutMs,
              random,
            }),
          { ...naiveLayer(300), random },
        ),
      { connection, prefix: options.prefix, concurrency: options.concurrency },
    );
    trackFinishes(worker, finishes);
    return worker;
  });
  return {
    enqueue: async (index) => {
      await queue.add('call', { index }, { jobId: `n${index}` });
    },
    finishes,
    close: () => closeAll(workers, queue),
  };
}

/** Runner: each worker its own LlmClient (a fleet of `workers` processes' worth) on shared Redis state. */
export function startRunnerSystem(options: SystemOptions): OutageSystem {
  const connection = { url: options.redisUrl, maxRetriesPerRequest: null };
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const queue = createAgentQueue({ connection, prefix: options.prefix });
  const finishes: Finish[] = [];
  const clients = Array.from({ length: options.workers }, (_, w) =>
    createRunnerLlm({
      redisUrl: options.redisUrl,
      prefix: options.prefix,
      baseUrl: options.upstreamUrl,
      policy: { ...defaultPolicies.llm, timeoutMs: options.attemptTimeoutMs },
      probeIntervalMs: options.probeIntervalMs,
      retryBudgetWindowMs: options.retryBudgetWindowMs,
      random: seededRandom(options.seed * 10 + w),
      fetch,
    }),
  );
  const workers = clients.map(({ llm }, w) => {
    const worker = createAgentWorker({
      connection,
      redis,
      prefix: options.prefix,
      concurrency: options.concurrency,
      deadlineMs: 15 * 60_000,
      logger: silentLogger,
      random: seededRandom(options.seed * 100 + w),
      handle: (_data, job) =>
        llm.chat({
          messages,
          deadlineMs: job.deadlineAtMs - Date.now(),
          ...(job.signal ? { signal: job.signal } : {}),
        }),
    });
    trackFinishes(worker, finishes);
    return worker;
  });
  return {
    enqueue: async (index) => {
      const id = `r${index}`;
      await queue.add('issues.opened', exampleJobData(id), { jobId: id });
    },
    finishes,
    close: async () => {
      await closeAll(workers, queue);
      for (const client of clients) client.close();
      redis.disconnect();
    },
  };
}

function trackFinishes(worker: Worker, finishes: Finish[]): void {
  worker.on('completed', () => finishes.push({ atMs: Date.now(), failed: false }));
  worker.on('failed', (job: Job | undefined, error: Error) => {
    // A failed run that BullMQ will retry is not the end of the job; out of attempts, or unrecoverable, is.
    const final =
      error instanceof UnrecoverableError || (job?.attemptsMade ?? 0) >= (job?.opts.attempts ?? 1);
    if (final) finishes.push({ atMs: Date.now(), failed: true });
  });
  worker.on('error', () => {});
}

async function closeAll(workers: Worker[], queue: Queue): Promise<void> {
  // Forced: a job still hanging on the upstream has nothing left to tell the benchmark.
  await Promise.all(workers.map((worker) => worker.close(true)));
  await queue.close();
}
