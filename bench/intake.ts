// Benchmark 4: the real intake under load against a bare node:http + HMAC + queue.add baseline, with the
// intake in the workers' process and in its own, and the workers idle or saturated.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { loadConfig } from '@runner/config';
import { createAgentQueue } from '@runner/queue';
import { createLogger, WorkerMetrics } from '@runner/worker';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { type LatencyPhase, measureLatency } from './intake-latency.ts';
import {
  type IntakeServer,
  type Placement,
  startBaselineIntake,
  startRunnerIntake,
} from './intake-servers.ts';
import { measureThroughput, type ThroughputPhase } from './intake-throughput.ts';
import {
  armMeasure,
  type BenchContext,
  type Benchmark,
  type BenchmarkResult,
  medianOutcome,
  type ResultRow,
  row,
  sumOutcome,
} from './lib/benchmark.ts';
import { formatNumber } from './lib/format.ts';
import { interleave, type Repetition } from './lib/interleave.ts';
import { deleteKeys } from './lib/redis-keys.ts';
import { median, pairedRatios, summarize } from './lib/stats.ts';
import { LoadGeneratorProcess } from './load-generator-client.ts';

export const intakeOptions = {
  /** Each delivery's body, padded to this. In bytes. */
  bodyBytes: 25 * 1024,
  /** GitHub gives up on a delivery after 10 s. In ms. */
  githubDeadlineMs: 10_000,
  /**
   * Requests in flight in the closed-loop (maximum throughput) phases; GitHub's deliveries come from many
   * senders at once. The ratio depends on it (a trial: 0.62 at 8, 0.70 at 16 and 64, 0.79 at 128, as the
   * runner's four sequential Redis round trips per delivery weigh less when more requests overlap), so
   * ratios are comparable only at the same concurrency.
   */
  closedLoopConcurrency: 64,
  /** The open loop's rate, unless the runner's closed-loop maximum leaves less than 2× headroom. */
  openLoopRatePerSec: 300,
  headroom: 2,
  /**
   * Saturated workers: a runner worker (the overhead benchmark's job path) in the workers' process,
   * draining the intake's queue from a backlog so that it never waits for work, each job spinning the
   * CPU for `cpuMsPerJob`: the worst case for the intake beside it, where real jobs mostly wait on I/O.
   */
  busyWorker: { concurrency: 10, cpuMsPerJob: 2, backlogJobs: 5_000, settleMs: 300 },
  /**
   * Phase lengths, warm-up included (ms): `warmupMs` at the start of each phase is not counted, and the
   * discarded warm-up pair of closed-loop phases runs `warmupPairMs` each: a fresh intake's first second
   * runs at a third of its later rate while the JIT warms up (1 200 against 3 700 req/s in a trial).
   */
  quick: { repetitions: 3, warmupMs: 300, warmupPairMs: 3_000, throughputMs: 1_000, latencyMs: 2_000 },
  full: { repetitions: 5, warmupMs: 500, warmupPairMs: 4_000, throughputMs: 2_500, latencyMs: 4_500 },
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
    const generator = new LoadGeneratorProcess(context.repoRoot);
    const metrics = new WorkerMetrics();
    const workerLogger = createLogger(
      config.logLevel,
      pino.destination({ dest: join(context.tempDir, 'intake-busy-worker.log'), sync: true }),
    );
    const rows: ResultRow[] = [];
    const notes: string[] = [];
    const details: Record<string, unknown> = {};
    const deliveries = (seed: number, tag: string) => ({
      secret,
      bodyBytes: intakeOptions.bodyBytes,
      seed,
      tag,
    });

    try {
      for (const { placement, label } of placements) {
        context.log(`intake, ${label}`);
        const run = `${placement}-${Date.now().toString(36)}`;
        const server = (prefix: string) => ({
          placement,
          redisUrl: context.redisUrl,
          prefix,
          secret,
          logFile: join(context.tempDir, `intake-${prefix.replaceAll(':', '-')}.log`),
          repoRoot: context.repoRoot,
        });
        const baselinePrefix = `bench:intake:${run}:baseline`;
        const runnerPrefix = `bench:intake:${run}:runner`;
        const servers: IntakeServer[] = [];
        const queue = createAgentQueue({
          connection: { url: context.redisUrl, maxRetriesPerRequest: null },
          prefix: runnerPrefix,
        });
        try {
          const baseline = await startBaselineIntake(server(baselinePrefix));
          servers.push(baseline);
          const runner = await startRunnerIntake(server(runnerPrefix));
          servers.push(runner);

          context.log(`  closed loop, ${intakeOptions.closedLoopConcurrency} in flight, workers idle`);
          const closed = (target: IntakeServer, name: string) => (repetition: Repetition) =>
            measureThroughput({
              generator,
              target,
              deliveries: deliveries(repetition.seed, `${run}-${name}-closed-${repetition.index}`),
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
          const baselineRps = summarize(throughput.a.map((r) => r.perSecond));
          const runnerRps = summarize(throughput.b.map((r) => r.perSecond));
          rows.push(
            row(
              `${label}: requests/s (closed loop, workers idle)`,
              medianOutcome('runner ÷ baseline', '', summarize(pairedRatios(runnerRps.raw, baselineRps.raw))),
              [armMeasure('baseline', 'req/s', baselineRps), armMeasure('runner', 'req/s', runnerRps)],
              { op: '>=', value: intakeOptions.targets.requestsRatio },
            ),
          );
          const baselineCpu = summarize(throughput.a.map((r) => r.cpuMsPerRequest));
          const runnerCpu = summarize(throughput.b.map((r) => r.cpuMsPerRequest));
          if (baselineCpu.raw.every(Number.isFinite) && runnerCpu.raw.every(Number.isFinite))
            rows.push(
              // No target: the cost behind the requests/s, steadier than it on a noisy machine.
              row(
                `${label}: CPU per request (closed loop)`,
                medianOutcome(
                  'runner ÷ baseline',
                  '',
                  summarize(pairedRatios(runnerCpu.raw, baselineCpu.raw)),
                ),
                [armMeasure('baseline', 'ms', baselineCpu), armMeasure('runner', 'ms', runnerCpu)],
              ),
            );

          const ratePerSec = Math.min(
            intakeOptions.openLoopRatePerSec,
            Math.floor(runnerRps.median / intakeOptions.headroom),
          );
          context.log(`  open loop, ${ratePerSec} req/s, workers idle or saturated`);
          const latencyPhase = (busy: boolean) => (repetition: Repetition) =>
            measureLatency({
              generator,
              runner,
              deliveries: deliveries(repetition.seed, `${run}-${busy ? 'busy' : 'idle'}-${repetition.index}`),
              ratePerSec,
              durationMs: phases.latencyMs,
              warmupMs: phases.warmupMs,
              deadlineMs: intakeOptions.githubDeadlineMs,
              ...(busy
                ? {
                    busy: {
                      ...intakeOptions.busyWorker,
                      queue,
                      backlogTag: `backlog-${repetition.seed}-${Date.now().toString(36)}`,
                      worker: {
                        redisUrl: context.redisUrl,
                        prefix: runnerPrefix,
                        config,
                        concurrency: intakeOptions.busyWorker.concurrency,
                        logger: workerLogger,
                        metrics,
                        random: repetition.random,
                        job: { ioMs: 0, cpuMs: intakeOptions.busyWorker.cpuMsPerJob },
                      },
                    },
                  }
                : {}),
            });
          const latency = await interleave<LatencyPhase>({
            a: { name: 'idle', run: latencyPhase(false) },
            b: { name: 'busy', run: latencyPhase(true) },
            repetitions: phases.repetitions,
            seed: context.seed,
            log: context.log,
            describe: (p) =>
              `p50 ${formatNumber(p.p50Ms)} ms, p99 ${formatNumber(p.p99Ms)} ms, max ${formatNumber(p.maxMs)} ms, ${p.counted} requests ${JSON.stringify(p.statuses)}` +
              (p.workerJobsPerSec === undefined
                ? ''
                : `, worker ${formatNumber(p.workerJobsPerSec)} jobs/s, ${p.backlogLeft} jobs still waiting`),
          });
          const idleP99 = summarize(latency.a.map((p) => p.p99Ms));
          const busyP99 = summarize(latency.b.map((p) => p.p99Ms));
          const idleP50 = summarize(latency.a.map((p) => p.p50Ms));
          const busyP50 = summarize(latency.b.map((p) => p.p50Ms));
          rows.push(
            row(
              `${label}: p99 latency (open loop, ${ratePerSec} req/s)`,
              medianOutcome('busy ÷ idle', '', summarize(pairedRatios(busyP99.raw, idleP99.raw))),
              [armMeasure('idle', 'ms', idleP99), armMeasure('busy', 'ms', busyP99)],
              { op: '<=', value: intakeOptions.targets.p99Ratio },
            ),
            // No target; the median is far less at the mercy of one scheduling hiccup than the p99.
            row(
              `${label}: p50 latency (open loop, ${ratePerSec} req/s)`,
              medianOutcome('busy ÷ idle', '', summarize(pairedRatios(busyP50.raw, idleP50.raw))),
              [armMeasure('idle', 'ms', idleP50), armMeasure('busy', 'ms', busyP50)],
            ),
            row(
              `${label}: answers slower than ${intakeOptions.githubDeadlineMs / 1000} s (open loop)`,
              sumOutcome(
                'count',
                '',
                [...latency.a, ...latency.b].map((p) => p.overDeadline),
              ),
              undefined,
              { op: '<=', value: intakeOptions.targets.overDeadline },
            ),
          );

          const all = [...latency.a, ...latency.b];
          const statuses = mergeCounts([...throughput.a, ...throughput.b].map((r) => r.statuses));
          const openStatuses = mergeCounts(all.map((p) => p.statuses));
          const busyRates = latency.b.map((p) => p.workerJobsPerSec ?? 0);
          notes.push(
            `${label}: open-loop rate ${ratePerSec} req/s (the runner's closed-loop maximum was ${formatNumber(runnerRps.median)} req/s)` +
              `; saturated worker ${formatNumber(median(busyRates))} jobs/s, backlog never empty: ${latency.b.every((p) => (p.backlogLeft ?? 0) > 0) ? 'yes' : 'NO'}` +
              `; the generator's own send lag, p99 per phase: median ${formatNumber(median(all.map((p) => p.sendLagP99Ms)))} ms, max ${formatNumber(Math.max(...all.map((p) => p.sendLagP99Ms)))} ms (it is inside every latency)` +
              `; answers: closed loop ${JSON.stringify(statuses)}, open loop ${JSON.stringify(openStatuses)}.`,
          );
          details[placement] = { ratePerSec, throughput, latency };
        } finally {
          for (const s of servers.reverse()) await s.close();
          await queue.close();
          await deleteKeys(admin, baselinePrefix);
          await deleteKeys(admin, runnerPrefix);
        }
      }
    } finally {
      await generator.close();
      admin.disconnect();
    }
    return {
      rows,
      details,
      notes: [
        `Deliveries: signed issues.opened of ${intakeOptions.bodyBytes / 1024} KB (the issue body padded with seeded text), each with its own delivery id and body, so that no dedupe short-circuits; sent by a load generator in a process of its own over keep-alive HTTP/1.1.`,
        "runner: startIntake (body limits, HMAC, JSON.parse, event/payload shape checks, job data validation, dedupe by delivery id and body sha256 in one Lua script, queue.add, one pino line per delivery at info to a file). baseline: node:http, read the body, HMAC with timingSafeEqual, JSON.parse, queue.add, 202. Both on the agent queue's options, each on its own prefix. In the workers' process = in this process; own process = `node --import tsx apps/webhooks/src/main.ts` (and bench/bare-intake-main.ts for the baseline).",
        `requests/s: closed loop (${intakeOptions.closedLoopConcurrency} senders back to back), 2xx answers per second after a ${phases.warmupMs} ms warm-up, workers idle; it measures capacity, so its latencies are not reported (a closed loop hides queueing). CPU per request: the CPU time of the intake's process (all threads; in the workers' process, that is this process) over the phase, divided by the answers.`,
        `Latency: open loop at a fixed rate (${intakeOptions.openLoopRatePerSec} req/s, or the runner's closed-loop maximum ÷ ${intakeOptions.headroom} if lower), measured from each request's scheduled send time to the end of its answer (no coordinated omission); p99 of ${formatNumber(((phases.latencyMs - phases.warmupMs) / 1000) * intakeOptions.openLoopRatePerSec)} requests per phase; every request abandoned 10 s after its scheduled time.`,
        `idle = no worker consumes the queue. busy = a runner worker (createAgentWorker, concurrency ${intakeOptions.busyWorker.concurrency}, the overhead benchmark's job path with ${intakeOptions.busyWorker.cpuMsPerJob} ms of CPU per job and no I/O) in this process, draining the runner intake's queue from a backlog of ${formatNumber(intakeOptions.busyWorker.backlogJobs)} jobs. Not startWorker with fake GitHub and LLM: its LLM spacing (100 ms) would keep the CPU mostly idle.`,
        `Interleaved baseline/runner and idle/busy pairs, ${phases.repetitions} after one discarded warm-up pair; ratios are medians of per-pair ratios, with their min–max.`,
        ...notes,
      ],
    };
  },
};

function mergeCounts(counts: ReadonlyArray<Record<string, number>>): Record<string, number> {
  const merged: Record<string, number> = {};
  for (const count of counts)
    for (const [key, n] of Object.entries(count)) merged[key] = (merged[key] ?? 0) + n;
  return merged;
}
