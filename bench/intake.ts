// Benchmark 4: the real intake under load against a bare node:http + HMAC + queue.add baseline, with the
// intake in the workers' process and in its own, and the workers idle or saturated.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { loadConfig } from '@runner/config';
import { createAgentQueue } from '@runner/queue';
import { seededRandom } from '@runner/retry';
import { createLogger, logDestination, WorkerMetrics } from '@runner/worker';
import { Redis } from 'ioredis';
import { BusyWorker, type LatencyPhase, measureLatency } from './intake-latency.ts';
import { type PlacementRun, placementNote, placementRows } from './intake-report.ts';
import {
  type IntakeServer,
  type Placement,
  startBaselineIntake,
  startRunnerIntake,
} from './intake-servers.ts';
import { measureThroughput, type ThroughputPhase } from './intake-throughput.ts';
import type { BenchContext, Benchmark, BenchmarkResult, ResultRow } from './lib/benchmark.ts';
import { formatNumber } from './lib/format.ts';
import { interleave, type Repetition } from './lib/interleave.ts';
import { deleteKeys } from './lib/redis-keys.ts';
import { median } from './lib/stats.ts';
import { LoadGeneratorProcess } from './load-generator-client.ts';

export const intakeOptions = {
  /** Each delivery's body, padded to this. In bytes. */
  bodyBytes: 25 * 1024,
  /** GitHub gives up on a delivery after 10 s. In ms. */
  githubDeadlineMs: 10_000,
  /**
   * Requests in flight in the closed-loop (maximum throughput) phases; GitHub's deliveries come from many
   * senders at once. The ratio depends on it (a trial: 0.62 at 8, 0.70 at 16 and 64, 0.79 at 128, when
   * the runner made four sequential Redis round trips per delivery, which weigh less when more requests
   * overlap), so ratios are comparable only at the same concurrency.
   */
  closedLoopConcurrency: 64,
  /** The open loop's rate, unless the runner's closed-loop maximum leaves less than 2× headroom. */
  openLoopRatePerSec: 300,
  headroom: 2,
  /**
   * Saturated workers: a runner worker (the overhead benchmark's job path) in the workers' process,
   * draining the intake's queue from a backlog so that it never waits for work, each job spinning the
   * CPU for `cpuMsPerJob`: the worst case for the intake beside it, where real jobs mostly wait on I/O.
   * It runs `warmupMs` before the first placement's first phase (the second finds its code compiled),
   * and is paused between busy phases.
   */
  busyWorker: { concurrency: 10, cpuMsPerJob: 2, backlogJobs: 3_000, warmupMs: 300, settleMs: 50 },
  /**
   * Phase lengths, warm-up included (ms): `warmupMs` at the start of each phase is not counted, and the
   * discarded warm-up pair of closed-loop phases runs `warmupPairMs` each: a fresh intake's first second
   * runs at a third of its later rate while the JIT warms up (1 200 against 3 700 req/s in a trial), and
   * after a warm-up pair of 1 s the runner in its own process still sped up from one measured pair to the
   * next (1 805, 2 222, 2 557 req/s): it has more code to compile than the baseline. The
   * open-loop phases need no warm-up pair: the closed loop has warmed the intake, and the worker warms up
   * on its own. Sized so that the whole benchmark takes about 20 s (quick) or 40 s on 2 cores.
   */
  quick: { repetitions: 3, warmupMs: 100, warmupPairMs: 400, throughputMs: 500, latencyMs: 600 },
  full: { repetitions: 3, warmupMs: 200, warmupPairMs: 2_000, throughputMs: 800, latencyMs: 1_300 },
  targets: { requestsRatio: 0.8, p99Ratio: 2, overDeadline: 0 },
} as const;

const placements: ReadonlyArray<{ placement: Placement; label: string }> = [
  { placement: 'workers-process', label: "in workers' process" },
  { placement: 'own-process', label: 'own process' },
];

export const intakeBenchmark: Benchmark = {
  name: 'intake',
  title: '4. Intake under load: the real intake vs a bare node:http + HMAC + queue.add',
  async run(context: BenchContext): Promise<BenchmarkResult> {
    const phases = context.quick ? intakeOptions.quick : intakeOptions.full;
    const config = loadConfig({ REDIS_URL: context.redisUrl });
    const secret = randomUUID();
    const admin = new Redis(context.redisUrl);
    const run = Date.now().toString(36);
    const metrics = new WorkerMetrics();
    const workerLogger = createLogger(
      config.logLevel,
      logDestination(join(context.tempDir, 'intake-busy-worker.log')),
    );
    const rows: ResultRow[] = [];
    const notes: string[] = [];
    const details: Record<string, unknown> = {};
    const deliveries = (seed: number, tag: string) => ({
      secret,
      bodyBytes: intakeOptions.bodyBytes,
      seed,
      tag: `${run}-${tag}`,
    });
    const prefixes = (placement: Placement) => ({
      baseline: `bench:intake:${run}:${placement}:baseline`,
      runner: `bench:intake:${run}:${placement}:runner`,
    });
    const serverOptions = (placement: Placement, prefix: string) => ({
      placement,
      redisUrl: context.redisUrl,
      prefix,
      secret,
      logFile: join(context.tempDir, `intake-${prefix.replaceAll(':', '-')}.log`),
      repoRoot: context.repoRoot,
    });

    // Every process starts at once, before anything is measured: starting one costs a second of CPU.
    const generator = new LoadGeneratorProcess(context.repoRoot);
    const started = await Promise.allSettled(
      placements.flatMap(({ placement }) => [
        startBaselineIntake(serverOptions(placement, prefixes(placement).baseline)),
        startRunnerIntake(serverOptions(placement, prefixes(placement).runner)),
      ]),
    );
    const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    try {
      const failed = started.find((s) => s.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      for (const [i, { placement, label }] of placements.entries()) {
        context.log(`intake, ${label}`);
        const [baseline, runner] = servers.slice(2 * i, 2 * i + 2) as [IntakeServer, IntakeServer];

        context.log(`  closed loop, ${intakeOptions.closedLoopConcurrency} in flight, workers idle`);
        const closed = (target: IntakeServer, name: string) => (repetition: Repetition) =>
          measureThroughput({
            generator,
            target,
            deliveries: deliveries(repetition.seed, `${placement}-${name}-closed-${repetition.index}`),
            concurrency: intakeOptions.closedLoopConcurrency,
            durationMs: repetition.warmup ? phases.warmupPairMs : phases.throughputMs,
            warmupMs: phases.warmupMs,
            timeoutMs: intakeOptions.githubDeadlineMs,
          });
        const throughput = await interleave<ThroughputPhase>({
          a: { name: 'baseline', run: closed(baseline, 'baseline') },
          b: { name: 'runner', run: closed(runner, 'runner') },
          repetitions: phases.repetitions,
          seed: context.seed,
          log: context.log,
          describe: (r) =>
            `${formatNumber(r.perSecond)} req/s, ${formatNumber(r.cpuMsPerRequest)} ms CPU per request ${JSON.stringify(r.statuses)}`,
        });
        const runnerMax = median(throughput.b.map((r) => r.perSecond));
        const ratePerSec = Math.min(
          intakeOptions.openLoopRatePerSec,
          Math.floor(runnerMax / intakeOptions.headroom),
        );

        context.log(`  open loop, ${ratePerSec} req/s, workers idle or saturated`);
        const queue = createAgentQueue({
          connection: { url: context.redisUrl, maxRetriesPerRequest: null },
          prefix: prefixes(placement).runner,
        });
        let busy: BusyWorker | undefined;
        try {
          busy = await BusyWorker.start({
            ...intakeOptions.busyWorker,
            warmupMs: i === 0 ? intakeOptions.busyWorker.warmupMs : 0,
            queue,
            backlogTag: `backlog-${run}-${placement}`,
            worker: {
              redisUrl: context.redisUrl,
              prefix: prefixes(placement).runner,
              config,
              concurrency: intakeOptions.busyWorker.concurrency,
              logger: workerLogger,
              metrics,
              random: seededRandom(context.seed),
              job: { ioMs: 0, cpuMs: intakeOptions.busyWorker.cpuMsPerJob },
            },
          });
          const worker = busy;
          const open = (saturated: boolean) => (repetition: Repetition) =>
            measureLatency({
              generator,
              runner,
              deliveries: deliveries(
                repetition.seed,
                `${placement}-${saturated ? 'busy' : 'idle'}-${repetition.index}`,
              ),
              ratePerSec,
              durationMs: phases.latencyMs,
              warmupMs: phases.warmupMs,
              deadlineMs: intakeOptions.githubDeadlineMs,
              ...(saturated ? { busy: worker } : {}),
            });
          const latency = await interleave<LatencyPhase>({
            a: { name: 'idle', run: open(false) },
            b: { name: 'busy', run: open(true) },
            repetitions: phases.repetitions,
            seed: context.seed,
            warmup: false,
            log: context.log,
            describe: (p) =>
              `p50 ${formatNumber(p.p50Ms)} ms, p99 ${formatNumber(p.p99Ms)} ms, max ${formatNumber(p.maxMs)} ms, ${p.counted} requests ${JSON.stringify(p.statuses)}` +
              (p.workerJobsPerSec === undefined
                ? ''
                : `, worker ${formatNumber(p.workerJobsPerSec)} jobs/s, ${p.backlogLeft} jobs still waiting`),
          });
          const measured: PlacementRun = { label, ratePerSec, throughput, latency };
          rows.push(...placementRows(measured, intakeOptions.targets, intakeOptions.githubDeadlineMs));
          notes.push(placementNote(measured, runnerMax));
          details[placement] = { ratePerSec, throughput, latency };
        } finally {
          await busy?.close();
          await queue.close();
        }
      }
    } finally {
      await Promise.all([generator.close(), ...servers.map((s) => s.close())]);
      for (const { placement } of placements)
        for (const prefix of Object.values(prefixes(placement))) await deleteKeys(admin, prefix);
      admin.disconnect();
    }
    return {
      rows,
      details,
      notes: [
        `Deliveries: signed issues.opened of ${intakeOptions.bodyBytes / 1024} KB (the issue body padded with seeded text), each with its own delivery id and body, so that no dedupe short-circuits; sent by a load generator in a process of its own over keep-alive HTTP/1.1.`,
        "runner: startIntake (body limits, HMAC, JSON.parse, event/payload shape checks, job data validation, dedupe by delivery id and by body in Lua scripts, queue.add, one pino line per delivery at info to a file). baseline: node:http, read the body, HMAC with timingSafeEqual, JSON.parse, queue.add, 202. Both on the agent queue's options, each on its own prefix. In the workers' process = in this process; own process = `node --import tsx apps/webhooks/src/main.ts` (and bench/bare-intake-main.ts for the baseline).",
        `requests/s: closed loop (${intakeOptions.closedLoopConcurrency} senders back to back), 2xx answers per second after a ${phases.warmupMs} ms warm-up, workers idle; it measures capacity, so its latencies are not reported (a closed loop hides queueing). CPU per request: the CPU time of the intake's process (all threads; in the workers' process, that is this process) over the phase, divided by the answers.`,
        `Latency: open loop at a fixed rate (${intakeOptions.openLoopRatePerSec} req/s, or the runner's closed-loop maximum ÷ ${intakeOptions.headroom} if lower), deliveries signed before the clock starts, measured from each request's scheduled send time to the end of its answer (no coordinated omission); p99 of ${formatNumber(((phases.latencyMs - phases.warmupMs) / 1000) * intakeOptions.openLoopRatePerSec)} requests per phase at ${intakeOptions.openLoopRatePerSec} req/s; every request abandoned 10 s after its scheduled time.`,
        `idle = no worker consumes the queue (the busy phases' worker is paused). busy = a runner worker (createAgentWorker, concurrency ${intakeOptions.busyWorker.concurrency}, the overhead benchmark's job path with ${intakeOptions.busyWorker.cpuMsPerJob} ms of CPU per job and no I/O) in this process, draining the runner intake's queue from a backlog of at least ${formatNumber(intakeOptions.busyWorker.backlogJobs)} jobs. Not startWorker with fake GitHub and LLM: its LLM spacing (100 ms) would keep the CPU mostly idle.`,
        `Interleaved baseline/runner pairs (after one discarded warm-up pair) and idle/busy pairs, ${phases.repetitions} each; ratios are medians of per-pair ratios, with their min–max.`,
        ...notes,
      ],
    };
  },
};
