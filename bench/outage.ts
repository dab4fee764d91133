// Benchmark 3: outage amplification and recovery. Logical calls arrive open-loop as jobs; the upstream
// answers 503 (or hangs) for a while, then recovers. Naive layering against the runner's stack, each in
// a 503 and a hang variant run side by side on their own upstreams and keys.
import { Redis } from 'ioredis';
import {
  armMeasure,
  type BenchContext,
  type Benchmark,
  type BenchmarkResult,
  medianOutcome,
  type ResultRow,
  row,
  type Target,
} from './lib/benchmark.ts';
import { formatNumber } from './lib/format.ts';
import { interleave, type Repetition } from './lib/interleave.ts';
import { openLoop } from './lib/open-loop.ts';
import { deleteKeys } from './lib/redis-keys.ts';
import { summarize } from './lib/stats.ts';
import { type LlmUpstream, type Outage, startLlmUpstream } from './llm-upstream.ts';
import { type Finish, type OutageSystem, startNaiveSystem, startRunnerSystem } from './outage-systems.ts';

export const outageOptions = {
  /** Logical calls (jobs) per second, whatever happens to earlier ones. */
  arrivalPerSec: 10,
  /** The upstream's answer time when it is up. In ms. */
  serviceMs: 200,
  /**
   * Workers × concurrency ÷ service time: a capacity of 50 calls/s, 5× the arrivals, so that the backlog's
   * bound (a quarter of the outage) is long against a probe interval and the target can tell them apart.
   */
  workers: 2,
  concurrency: 5,
  /** Each attempt's timeout in both systems (the hang variant ends on it). In ms. */
  attemptTimeoutMs: 2_000,

  /** A completion rate this share of the arrival rate, over one second, is "goodput back". */
  goodputShare: 0.95,
  /** After the arrivals stop, how long the jobs left get to finish. In ms. */
  drainMs: 1_500,
  /**
   * `probeIntervalMs`, the runner's circuit cool-down, is scaled with the outage (the worker's default is
   * 30 s); a job waiting out an open circuit runs once per interval, and its 20 runs (`maxRuns`) must
   * outlast the outage. So is the retry budget's window in the quick run (10 s by default): a job the
   * budget refuses at the start of the outage is delayed by a window, which would outlast a 3 s outage.
   */
  quick: {
    repetitions: 3,
    preMs: 500,
    outageMs: 3_000,
    postMs: 2_000,
    probeIntervalMs: 1_000,
    retryBudgetWindowMs: 2_000,
  },
  full: {
    repetitions: 3,
    preMs: 1_000,
    outageMs: 20_000,
    postMs: 7_000,
    probeIntervalMs: 2_000,
    retryBudgetWindowMs: 10_000,
  },
  targets: { attemptsPerCall: 1.2, recoveryBeyondProbeMs: 2_000, clearRatio: 1.5, failedPercent: 0 },
} as const;

const variants = ['503', 'hang'] as const;
type Variant = (typeof variants)[number];
type ArmName = 'naive' | 'runner';

/** One variant's figures in one run. */
interface VariantRun {
  attemptsPerCall: number;
  recoveryMs: number;
  clearMs: number;
  clearBoundMs: number;
  clearRatio: number;
  failedPercent: number;
  enqueued: number;
  completed: number;
  failed: number;
  unfinished: number;
  backlogAtRecovery: number;
}
type ArmRun = Record<Variant, VariantRun>;

export const outageBenchmark: Benchmark = {
  name: 'outage',
  title: '3. Outage amplification and recovery: naive layering vs the runner',
  async run(context: BenchContext): Promise<BenchmarkResult> {
    const o = outageOptions;
    const phases = context.quick ? o.quick : o.full;
    const admin = new Redis(context.redisUrl);
    const upstreams = {
      '503': await startLlmUpstream({ serviceMs: o.serviceMs }),
      hang: await startLlmUpstream({ serviceMs: o.serviceMs }),
    } satisfies Record<Variant, LlmUpstream>;
    try {
      context.log(
        `outage: ${phases.outageMs / 1000} s of 503 and of hangs, ${o.arrivalPerSec} calls/s, capacity ${capacityPerSec()} calls/s`,
      );
      const runArm = (arm: ArmName) => async (repetition: Repetition) => {
        const entries = await Promise.all(
          variants.map(async (variant) => {
            const prefix = `bench-outage-${arm}-${variant}-${repetition.seed}`;
            const upstream = upstreams[variant];
            const start = arm === 'naive' ? startNaiveSystem : startRunnerSystem;
            const system = start({
              redisUrl: context.redisUrl,
              prefix,
              upstreamUrl: upstream.url,
              workers: o.workers,
              concurrency: o.concurrency,
              attemptTimeoutMs: o.attemptTimeoutMs,
              probeIntervalMs: phases.probeIntervalMs,
              retryBudgetWindowMs: phases.retryBudgetWindowMs,
              seed: repetition.seed,
            });
            try {
              return [variant, await runOnce(system, upstream, variant, phases)] as const;
            } finally {
              await system.close();
              await deleteKeys(admin, prefix);
            }
          }),
        );
        return Object.fromEntries(entries) as ArmRun;
      };
      const { a: naive, b: runner } = await interleave({
        a: { name: 'naive', run: runArm('naive') },
        b: { name: 'runner', run: runArm('runner') },
        repetitions: phases.repetitions,
        seed: context.seed,
        // A warm-up pair would cost two more outages; each run starts on fresh keys and upstreams.
        warmup: false,
        log: context.log,
        describe: (r) =>
          variants
            .map(
              (v) =>
                `${v}: ${formatNumber(r[v].attemptsPerCall)} attempts/call, recovery ${formatNumber(r[v].recoveryMs)} ms, clear ${formatNumber(r[v].clearRatio)}× bound, ${formatNumber(r[v].failedPercent)} % failed`,
            )
            .join('; '),
      });
      const rows: ResultRow[] = [];
      for (const variant of variants) {
        const compare = (measure: string, unit: string, pick: (r: VariantRun) => number, target: Target) => {
          const a = summarize(naive.map((r) => pick(r[variant])));
          const b = summarize(runner.map((r) => pick(r[variant])));
          return row(
            `${variant}: ${measure}`,
            medianOutcome('runner', unit, b),
            [armMeasure('naive', unit, a), armMeasure('runner', unit, b)],
            target,
          );
        };
        rows.push(
          compare('upstream attempts per logical call during the outage', '', (r) => r.attemptsPerCall, {
            op: '<=',
            value: o.targets.attemptsPerCall,
          }),
          compare('recovery to 95 % goodput', 's', (r) => r.recoveryMs / 1000, {
            op: '<=',
            value: (o.targets.recoveryBeyondProbeMs + phases.probeIntervalMs) / 1000,
          }),
          compare('backlog cleared ÷ its bound', '', (r) => r.clearRatio, {
            op: '<=',
            value: o.targets.clearRatio,
          }),
          compare('jobs failed for good', '%', (r) => r.failedPercent, {
            op: '<=',
            value: o.targets.failedPercent,
          }),
        );
      }
      return {
        rows,
        details: { naive, runner },
        notes: [
          `Upstream: a chat-completions fake answering in ${o.serviceMs} ms, then for ${phases.outageMs / 1000} s (after ${phases.preMs / 1000} s up) every request gets a 503, or in the hang variant no answer at all, then it is up again. Jobs arrive open-loop at ${o.arrivalPerSec}/s for ${(phases.preMs + phases.outageMs + phases.postMs) / 1000} s, then get ${o.drainMs / 1000} s to finish. ${o.workers} workers × concurrency ${o.concurrency}, one upstream call per job: a capacity of ${capacityPerSec()} calls/s. Each attempt times out after ${o.attemptTimeoutMs / 1000} s in both systems.`,
          `Naive: three layers each retrying on its own, 3 attempts with exponential backoff and full jitter: request (100 ms, 200 ms), tool (300 ms, 600 ms), and the job through BullMQ attempts (500 ms, 1 s): up to 27 upstream calls per job. Runner: createAgentWorker (layer 3: a job given up with a time is delayed, other retryable failures requeued with backoff, dead-lettered after 5) around the real LlmClient (the llm policy) with the FleetGuard on the Redis cooldown and retry budget and the circuit breaker on the Redis circuit store, probe interval ${phases.probeIntervalMs / 1000} s (the worker's default is 30 s), retry budget window ${phases.retryBudgetWindowMs / 1000} s (default 10 s). The runner's tool level wraps GitHub calls only, so an LLM call crosses two of its layers.`,
          `Attempts per logical call: requests that reached the upstream during the outage ÷ jobs that arrived during it. Recovery: from the upstream's recovery to the start of the first second in which jobs completed at ${o.goodputShare * 100} % of the arrival rate or more (the run's post phase when never). Backlog: jobs arrived and not finished; cleared when it is back to its most before the outage; its bound is (backlog at recovery − that) ÷ (capacity − arrival rate). Failed for good: jobs out of attempts or unrecoverable ÷ jobs enqueued; jobs unfinished at the end are in latest.json.`,
          `Arms interleaved naive, runner, naive, ...; the 503 and hang variants of an arm run at the same time, each on its own upstream and keys. Medians of ${phases.repetitions} runs, min–max in brackets.`,
        ],
      };
    } finally {
      await Promise.all(Object.values(upstreams).map((u) => u.close()));
      admin.disconnect();
    }
  },
};

function capacityPerSec(): number {
  const o = outageOptions;
  return (o.workers * o.concurrency * 1000) / o.serviceMs;
}

async function runOnce(
  system: OutageSystem,
  upstream: LlmUpstream,
  variant: Variant,
  phases: { preMs: number; outageMs: number; postMs: number },
): Promise<VariantRun> {
  const o = outageOptions;
  const startMs = Date.now();
  const outage: Outage = {
    mode: variant,
    fromMs: startMs + phases.preMs,
    untilMs: startMs + phases.preMs + phases.outageMs,
  };
  upstream.reset(outage);
  const arrivals: number[] = [];
  await openLoop({
    ratePerSec: o.arrivalPerSec,
    durationMs: phases.preMs + phases.outageMs + phases.postMs,
    warmupMs: 0,
    deadlineMs: 60_000,
    send: async (index) => {
      arrivals.push(Date.now());
      await system.enqueue(index);
      return 202;
    },
  });
  const drainUntilMs = Date.now() + o.drainMs;
  while (system.finishes.length < arrivals.length && Date.now() < drainUntilMs)
    await new Promise((resolve) => setTimeout(resolve, 50));
  return figures(arrivals, [...system.finishes], upstream, outage);
}

function figures(arrivals: number[], finishes: Finish[], upstream: LlmUpstream, outage: Outage): VariantRun {
  const o = outageOptions;
  const during = (atMs: number) => atMs >= outage.fromMs && atMs < outage.untilMs;
  const callsDuring = arrivals.filter(during).length;
  const attemptsDuring = upstream.log.filter((r) => during(r.atMs)).length;
  const endMs = arrivals.at(-1) ?? outage.untilMs;
  const completions = finishes.filter((f) => !f.failed).map((f) => f.atMs);
  const backlogAt = (t: number) =>
    arrivals.filter((a) => a <= t).length - finishes.filter((f) => f.atMs <= t).length;

  let recoveryMs = endMs - outage.untilMs;
  for (let t = outage.untilMs; t + 1_000 <= endMs; t += 50) {
    const done = completions.filter((c) => c >= t && c < t + 1_000).length;
    if (done >= o.goodputShare * o.arrivalPerSec) {
      recoveryMs = t - outage.untilMs;
      break;
    }
  }
  let normal = 1;
  for (let t = outage.fromMs - 500; t < outage.fromMs; t += 50) normal = Math.max(normal, backlogAt(t));
  const backlogAtRecovery = backlogAt(outage.untilMs);
  let clearMs = endMs - outage.untilMs;
  for (let t = outage.untilMs; t <= endMs; t += 50) {
    if (backlogAt(t) <= normal) {
      clearMs = t - outage.untilMs;
      break;
    }
  }
  const clearBoundMs =
    (1000 * Math.max(0, backlogAtRecovery - normal)) / (capacityPerSec() - o.arrivalPerSec);
  const failed = finishes.filter((f) => f.failed).length;
  return {
    attemptsPerCall: callsDuring === 0 ? 0 : attemptsDuring / callsDuring,
    recoveryMs,
    clearMs,
    clearBoundMs,
    // Nothing to clear is cleared at once.
    clearRatio: clearBoundMs === 0 ? (clearMs === 0 ? 1 : Number.POSITIVE_INFINITY) : clearMs / clearBoundMs,
    failedPercent: (100 * failed) / arrivals.length,
    enqueued: arrivals.length,
    completed: completions.length,
    failed,
    unfinished: arrivals.length - finishes.length,
    backlogAtRecovery,
  };
}
