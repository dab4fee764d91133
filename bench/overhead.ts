// Benchmark 1: what the runner's job path (retry tracking, idempotency records, logging to a file,
// metrics) costs against a bare BullMQ worker, on the same Redis, at the same concurrency.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, type RunnerConfig } from '@runner/config';
import { type AgentJobData, agentQueueName, createAgentQueue } from '@runner/queue';
import { createLogger, logDestination, WorkerMetrics } from '@runner/worker';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import {
  armMeasure,
  type BenchContext,
  type Benchmark,
  type BenchmarkResult,
  medianOutcome,
  type ResultRow,
  row,
} from './lib/benchmark.ts';
import { fillQueue } from './lib/fill-queue.ts';
import { formatNumber } from './lib/format.ts';
import { interleave, type Repetition } from './lib/interleave.ts';
import { deleteKeys } from './lib/redis-keys.ts';
import { median, pairedRatios, summarize } from './lib/stats.ts';
import { startRunnerWorker } from './runner-worker.ts';

export const overheadOptions = {
  /** Jobs one worker runs at once, for both arms. */
  concurrency: 10,
  /** Simulated I/O per job in the second variant. In ms. */
  ioMs: 10,
  quick: { repetitions: 3, noopJobs: 1_500, ioJobs: 600 },
  full: { repetitions: 5, noopJobs: 4_000, ioJobs: 900 },
  /** A drain that takes longer than this fails the benchmark. In ms. */
  drainTimeoutMs: 60_000,
  targets: { noop: 0.85, io: 0.97 },
} as const;

type ArmName = 'bare' | 'runner';

interface Variant {
  name: 'no-op' | `${number} ms I/O`;
  ioMs: number;
  jobs: number;
  target: number;
}

export const overheadBenchmark: Benchmark = {
  name: 'overhead',
  title: '1. Overhead: the runner job path vs a bare BullMQ worker',
  async run(context: BenchContext): Promise<BenchmarkResult> {
    const sizes = context.quick ? overheadOptions.quick : overheadOptions.full;
    const config = loadConfig({ REDIS_URL: context.redisUrl });
    const admin = new Redis(context.redisUrl);
    const metrics = new WorkerMetrics();
    const logFile = join(context.tempDir, 'overhead-worker.log');
    // As the worker logs in production (`logDestination`: buffered, written synchronously), but to a file.
    const logger = createLogger(config.logLevel, logDestination(logFile));
    const variants: Variant[] = [
      { name: 'no-op', ioMs: 0, jobs: sizes.noopJobs, target: overheadOptions.targets.noop },
      {
        name: `${overheadOptions.ioMs} ms I/O`,
        ioMs: overheadOptions.ioMs,
        jobs: sizes.ioJobs,
        target: overheadOptions.targets.io,
      },
    ];
    const rows: ResultRow[] = [];
    const details: Record<string, unknown> = {};
    const commandNotes: string[] = [];
    try {
      for (const variant of variants) {
        context.log(
          `overhead, ${variant.name}: ${variant.jobs} jobs per drain, concurrency ${overheadOptions.concurrency}`,
        );
        const drain = (arm: ArmName) => (repetition: Repetition) =>
          drainOnce({ context, config, admin, logger, metrics, variant, arm, repetition });
        const { a: bare, b: runner } = await interleave({
          a: { name: 'bare', run: drain('bare') },
          b: { name: 'runner', run: drain('runner') },
          repetitions: sizes.repetitions,
          seed: context.seed,
          log: context.log,
          describe: (d) =>
            `${formatNumber(d.jobsPerSec)} jobs/s, ${formatNumber(d.commandsPerJob)} Redis commands per job`,
        });
        const bareSummary = summarize(bare.map((d) => d.jobsPerSec));
        const runnerSummary = summarize(runner.map((d) => d.jobsPerSec));
        const arms = [
          armMeasure('bare', 'jobs/s', bareSummary),
          armMeasure('runner', 'jobs/s', runnerSummary),
        ] as const;
        rows.push(
          row(
            `${variant.name}: jobs/s`,
            medianOutcome('runner ÷ bare', '', summarize(pairedRatios(runnerSummary.raw, bareSummary.raw))),
            arms,
            { op: '>=', value: variant.target },
          ),
          row(
            `${variant.name}: added time per job`,
            medianOutcome(
              '1/runner − 1/bare',
              'ms',
              summarize(runnerSummary.raw.map((r, i) => 1000 / r - 1000 / (bareSummary.raw[i] as number))),
            ),
          ),
        );
        const commands = (arm: Drain[]) => median(arm.map((d) => d.commandsPerJob));
        commandNotes.push(
          `${variant.name}: Redis commands per job (INFO stats, the commands inside BullMQ's Lua scripts included; median): bare ${formatNumber(commands(bare))}, runner ${formatNumber(commands(runner))}.`,
        );
        details[variant.name] = { jobs: variant.jobs, bare, runner };
      }
    } finally {
      admin.disconnect();
    }
    return {
      rows,
      details,
      notes: [
        `Each drain: ${formatNumber(sizes.noopJobs)} (no-op) or ${formatNumber(sizes.ioJobs)} (I/O) issues.opened jobs added with addBulk to a paused queue on a fresh prefix, the worker started and ready, then the clock runs from resume to the last 'completed' event. Both arms use the agent queue's job options (attempts, backoff, retention).`,
        `bare: a BullMQ Worker whose processor returns at once, or awaits a ${overheadOptions.ioMs} ms timer. runner: createAgentWorker (job data validation, retry tracking and timeline in Redis, fleet stats, per-process metrics) with a job that times one upstream request into the duration histogram, records one tool result as the tools do (recordedSideEffect: a first run looks nothing up and does not wait for the store), logs one line through pino to a file (logDestination: a few KB at a time, as the worker writes its stdout), and waits the same ${overheadOptions.ioMs} ms in the I/O variant.`,
        `Interleaved bare, runner, bare, runner, ... (${sizes.repetitions} pairs after one discarded warm-up pair); the ratio and the added time are medians of the per-pair values, with their min–max.`,
        ...commandNotes,
        'Metrics: the worker’s own WorkerMetrics from @runner/worker (runner_worker_* counters, the request-duration histogram, default process metrics).',
      ],
    };
  },
};

interface DrainOptions {
  context: BenchContext;
  config: RunnerConfig;
  admin: Redis;
  logger: ReturnType<typeof createLogger>;
  metrics: WorkerMetrics;
  variant: Variant;
  arm: ArmName;
  repetition: Repetition;
}

interface Drain {
  jobsPerSec: number;
  /** Commands Redis ran during the drain, per job (Lua scripts count as one). */
  commandsPerJob: number;
}

/** Fills a paused queue, starts a worker, and times the drain. */
async function drainOnce(options: DrainOptions): Promise<Drain> {
  const { context, config, variant, arm, repetition } = options;
  const jobs = repetition.warmup ? Math.ceil(variant.jobs / 2) : variant.jobs;
  const prefix = `bench:overhead:${arm}:${repetition.seed}:${Date.now().toString(36)}`;
  const connection = { url: context.redisUrl, maxRetriesPerRequest: null };
  const queue = createAgentQueue({ connection, prefix, policy: config.retry.job });
  try {
    await queue.pause();
    await fillQueue(queue, jobs, 'bench');
    const running =
      arm === 'bare'
        ? bareWorker(prefix, connection, config, variant.ioMs)
        : startRunnerWorker({
            redisUrl: context.redisUrl,
            prefix,
            config,
            concurrency: overheadOptions.concurrency,
            logger: options.logger,
            metrics: options.metrics,
            random: repetition.random,
            job: { ioMs: variant.ioMs, cpuMs: 0 },
          });
    try {
      await running.worker.waitUntilReady();
      const drained = completions(running.worker, jobs, overheadOptions.drainTimeoutMs);
      const commandsBefore = await commandsProcessed(options.admin);
      const started = performance.now();
      await queue.resume();
      await drained;
      const jobsPerSec = jobs / ((performance.now() - started) / 1000);
      return {
        jobsPerSec,
        commandsPerJob: ((await commandsProcessed(options.admin)) - commandsBefore) / jobs,
      };
    } finally {
      await running.close();
    }
  } finally {
    await queue.close();
    await deleteKeys(options.admin, prefix);
  }
}

function bareWorker(
  prefix: string,
  connection: { url: string; maxRetriesPerRequest: null },
  config: RunnerConfig,
  ioMs: number,
): { worker: Worker<AgentJobData>; close(): Promise<void> } {
  const worker = new Worker<AgentJobData>(
    agentQueueName,
    ioMs > 0 ? async () => sleep(ioMs) : async () => undefined,
    {
      connection,
      prefix,
      concurrency: overheadOptions.concurrency,
      lockDuration: config.worker.lockDurationMs,
      stalledInterval: config.worker.stalledIntervalMs,
    },
  );
  return { worker, close: () => worker.close() };
}

/** Commands the Redis server has run since it started (INFO stats). */
async function commandsProcessed(redis: Redis): Promise<number> {
  return Number(/total_commands_processed:(\d+)/.exec(await redis.info('stats'))?.[1] ?? Number.NaN);
}

/** Resolves when `count` jobs have completed; rejects on the first failed job or after `timeoutMs`. */
function completions(worker: Worker<AgentJobData>, count: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let completed = 0;
    const timer = setTimeout(
      () => reject(new Error(`only ${completed} of ${count} jobs completed within ${timeoutMs} ms`)),
      timeoutMs,
    );
    worker.on('completed', () => {
      completed += 1;
      if (completed === count) {
        clearTimeout(timer);
        resolve();
      }
    });
    worker.on('failed', (job, error) => {
      clearTimeout(timer);
      reject(new Error(`job ${job?.id ?? '?'} failed: ${error.message}`));
    });
  });
}
