// Horizontal scaling (issue 9): the runner's job path drained by 1, 2 and 4 worker processes on one
// Redis, each process at the same concurrency. Not in the default run (its 5-minute budget); run it with
// `npm run bench -- --only scaling`.
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '@runner/config';
import { createAgentQueue } from '@runner/queue';
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
import { interleaveArms, type Repetition } from './lib/interleave.ts';
import { IpcChild } from './lib/ipc-child.ts';
import { deleteKeys } from './lib/redis-keys.ts';
import { pairedRatios, summarize } from './lib/stats.ts';
import type { ScalingRequest } from './scaling-worker-main.ts';

export const scalingOptions = {
  /** Worker processes in each arm; the first is the baseline the others are divided by. */
  processCounts: [1, 2, 4],
  /** Jobs one process runs at once, as in benchmark 1. */
  concurrency: 10,
  /** Simulated upstream wait per job in the I/O variant. In ms. */
  ioMs: 10,
  quick: { repetitions: 3, jobs: 1_000 },
  full: { repetitions: 3, jobs: 4_000 },
  /** How often the drain's end is checked (ZCARD of the completed set). In ms. */
  pollMs: 20,
  drainTimeoutMs: 120_000,
} as const;

type Worker = IpcChild<ScalingRequest, null>;

export const scalingBenchmark: Benchmark = {
  name: 'scaling',
  title: 'Scaling: the runner job path with 1, 2 and 4 worker processes on one Redis',
  async run(context: BenchContext): Promise<BenchmarkResult> {
    const sizes = context.quick ? scalingOptions.quick : scalingOptions.full;
    const config = loadConfig({ REDIS_URL: context.redisUrl });
    const admin = new Redis(context.redisUrl);
    const maxProcesses = Math.max(...scalingOptions.processCounts);
    // Forked once and reused: a drain times the work, not Node's start-up.
    const workers: Worker[] = Array.from(
      { length: maxProcesses },
      () =>
        new IpcChild<ScalingRequest, null>(context.repoRoot, 'bench/scaling-worker-main.ts', [
          context.redisUrl,
          context.tempDir,
        ]),
    );
    const rows: ResultRow[] = [];
    const details: Record<string, unknown> = {};
    try {
      for (const variant of [
        { name: 'no-op', ioMs: 0 },
        { name: `${scalingOptions.ioMs} ms I/O`, ioMs: scalingOptions.ioMs },
      ]) {
        context.log(`scaling, ${variant.name}: ${sizes.jobs} jobs per drain`);
        const results = await interleaveArms({
          arms: scalingOptions.processCounts.map((processes) => ({
            name: `${processes} process${processes === 1 ? '' : 'es'}`,
            run: (repetition: Repetition) =>
              drainOnce({
                redisUrl: context.redisUrl,
                admin,
                workers: workers.slice(0, processes),
                jobs: repetition.warmup ? Math.ceil(sizes.jobs / 2) : sizes.jobs,
                ioMs: variant.ioMs,
                repetition,
                policy: config.retry.job,
              }),
          })),
          repetitions: sizes.repetitions,
          seed: context.seed,
          log: context.log,
          describe: (drain) =>
            `${formatNumber(drain.jobsPerSec)} jobs/s, Redis ${formatNumber(drain.redisCpuMsPerJob * 1000)} µs CPU per job`,
        });
        const summaries = results.map((drains) => summarize(drains.map((drain) => drain.jobsPerSec)));
        const baseline = summaries[0] as (typeof summaries)[number];
        for (const [i, summary] of summaries.entries()) {
          const processes = scalingOptions.processCounts[i] as number;
          if (i === 0) continue;
          rows.push(
            row(
              `${variant.name}: jobs/s, ${processes} processes`,
              medianOutcome(
                `${processes} ÷ 1 process`,
                '',
                summarize(pairedRatios(summary.raw, baseline.raw)),
              ),
              [
                armMeasure('1 process', 'jobs/s', baseline),
                armMeasure(`${processes} processes`, 'jobs/s', summary),
              ],
            ),
          );
        }
        const redisCpu = summarize(results.flat().map((drain) => drain.redisCpuMsPerJob * 1000));
        rows.push(
          row(
            `${variant.name}: Redis CPU per job, every arm`,
            medianOutcome('µs (INFO cpu)', 'µs', redisCpu),
          ),
        );
        details[variant.name] = Object.fromEntries(
          scalingOptions.processCounts.map((processes, i) => [processes, results[i]]),
        );
      }
    } finally {
      await Promise.all(workers.map((worker) => worker.close()));
      admin.disconnect();
    }
    return {
      rows,
      details,
      notes: [
        `Each drain: ${formatNumber(sizes.jobs)} jobs added to a paused queue on a fresh prefix, every process's worker started and ready, then the clock runs from resume until the completed set holds them all (checked every ${scalingOptions.pollMs} ms).`,
        `Each process runs the job path of benchmark 1 (createAgentWorker, retry tracking, a tool result recorded, a log line to a file, metrics) at concurrency ${scalingOptions.concurrency}; the I/O variant waits ${scalingOptions.ioMs} ms per job, the no-op variant not at all.`,
        `Arms interleaved 1, 2, 4, 1, 2, 4, ... (${sizes.repetitions} rounds after a warm-up round); ratios are medians of per-round ratios to the 1-process arm of the same round.`,
        'Every process, the Redis server and this driver share the machine’s cores: the ratios say what more processes buy on one machine, not on many.',
        'Redis CPU per job is the server’s user + system CPU time over the drain (INFO cpu) divided by the jobs; one Redis core can run at most 1 ÷ that jobs a second, whatever the number of workers.',
      ],
    };
  },
};

interface DrainOptions {
  redisUrl: string;
  admin: Redis;
  workers: readonly Worker[];
  jobs: number;
  ioMs: number;
  repetition: Repetition;
  policy: ReturnType<typeof loadConfig>['retry']['job'];
}

/** Fills a paused queue, starts a worker in each process, and returns jobs/s from resume to the last job. */
interface Drain {
  jobsPerSec: number;
  /** CPU time the Redis server spent per job (INFO cpu, user + system). In ms. */
  redisCpuMsPerJob: number;
}

/** CPU seconds the Redis server has used since it started, user and system together. */
async function redisCpuSeconds(admin: Redis): Promise<number> {
  const info = await admin.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN);
  return field('used_cpu_user') + field('used_cpu_sys');
}

async function drainOnce(options: DrainOptions): Promise<Drain> {
  const { admin, workers, jobs, repetition } = options;
  const prefix = `bench:scaling:${workers.length}:${repetition.seed}:${Date.now().toString(36)}`;
  const queue = createAgentQueue({
    connection: { url: options.redisUrl, maxRetriesPerRequest: null },
    prefix,
    policy: options.policy,
  });
  try {
    await queue.pause();
    await fillQueue(queue, jobs, 'scale');
    await Promise.all(
      workers.map((worker, i) =>
        worker.request({
          kind: 'start',
          prefix,
          ioMs: options.ioMs,
          concurrency: scalingOptions.concurrency,
          seed: repetition.seed * 10 + i,
        }),
      ),
    );
    try {
      const completedKey = `${prefix}:${queue.name}:completed`;
      const cpuBefore = await redisCpuSeconds(admin);
      const started = performance.now();
      await queue.resume();
      while ((await admin.zcard(completedKey)) < jobs) {
        if (performance.now() - started > scalingOptions.drainTimeoutMs) {
          throw new Error(`drain of ${jobs} jobs took over ${scalingOptions.drainTimeoutMs} ms`);
        }
        const failed = await admin.zcard(`${prefix}:${queue.name}:failed`);
        if (failed > 0) throw new Error(`${failed} jobs failed in a scaling drain`);
        await sleep(scalingOptions.pollMs);
      }
      const jobsPerSec = jobs / ((performance.now() - started) / 1000);
      return { jobsPerSec, redisCpuMsPerJob: (((await redisCpuSeconds(admin)) - cpuBefore) * 1000) / jobs };
    } finally {
      await Promise.all(workers.map((worker) => worker.request({ kind: 'stop' })));
    }
  } finally {
    await queue.close();
    await deleteKeys(admin, prefix);
  }
}
