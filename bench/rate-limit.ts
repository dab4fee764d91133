// Benchmark 2: goodput, waste and fairness of a fleet under an upstream's rate limit. Four worker
// processes of eight closed-loop callers each, under one retry policy at a time, against a token-bucket
// upstream in a process of its own that answers 429 with Retry-After beyond its rate.
import { Redis } from 'ioredis';
import {
  type BenchContext,
  type Benchmark,
  type BenchmarkResult,
  medianOutcome,
  type ResultRow,
  row,
  type Target,
} from './lib/benchmark.ts';
import { formatNumber } from './lib/format.ts';
import { interleaveArms, type Repetition } from './lib/interleave.ts';
import { IpcChild } from './lib/ipc-child.ts';
import { deleteKeys } from './lib/redis-keys.ts';
import { jainIndex, percentile, summarize } from './lib/stats.ts';
import type { UpstreamReply, UpstreamRequestMessage } from './llm-upstream-main.ts';
import type { ClientsResult, ClientsRun } from './rate-limit-clients.ts';
import { type RateLimitPolicy, rateLimitPolicies } from './rate-limit-policies.ts';

export const rateLimitOptions = {
  /** The upstream's token bucket: R admitted per second, B at once after a quiet spell. */
  upstream: { ratePerSec: 40, burst: 10, serviceMs: 50 },
  processes: 4,
  /** Callers per process: 32 in all, each able to send 1 000 / serviceMs = 20 calls/s, 16× the rate. */
  clientsPerProcess: 8,
  /** The runner's limiter runs at this share of R, with a burst of B − 2. */
  knownQuotaShare: 0.97,
  /** The processes all start this long after the run is sent to them, on one clock. In ms. */
  startDelayMs: 200,
  quick: { repetitions: 3, windowMs: 1_000 },
  full: { repetitions: 3, windowMs: 3_500 },
  targets: { goodput: 0.93, wastePercent: 2, jain: 0.95 },
} as const;

type ClientsProcess = IpcChild<Omit<ClientsRun, 'id'>, ClientsResult>;

/** One run of one policy: the figures of the issue, and what they come from. */
interface Run {
  goodput: number;
  wastePercent: number;
  p99Ms: number;
  jainProcesses: number;
  jainClients: number;
  successes: number;
  attempts: number;
  throttled: number;
  unfinished: number;
  upstream: Record<string, number>;
}

export const rateLimitBenchmark: Benchmark = {
  name: 'rate-limit',
  title: '2. Goodput, waste and fairness under a rate limit',
  async run(context: BenchContext): Promise<BenchmarkResult> {
    const { upstream: upstreamOptions, targets } = rateLimitOptions;
    const sizes = context.quick ? rateLimitOptions.quick : rateLimitOptions.full;
    const admin = new Redis(context.redisUrl);
    const upstream = new IpcChild<Omit<UpstreamRequestMessage, 'id'>, UpstreamReply>(
      context.repoRoot,
      'bench/llm-upstream-main.ts',
      [JSON.stringify(upstreamOptions)],
    );
    const processes: ClientsProcess[] = Array.from(
      { length: rateLimitOptions.processes },
      () => new IpcChild(context.repoRoot, 'bench/rate-limit-clients.ts'),
    );
    try {
      const { url } = await upstream.request({ op: 'url' });
      context.log(
        `rate limit: R = ${upstreamOptions.ratePerSec}/s, B = ${upstreamOptions.burst}, ${rateLimitOptions.processes} processes × ${rateLimitOptions.clientsPerProcess} callers, ${sizes.windowMs / 1000} s windows`,
      );
      // Configured as an operator would: a little under the quota, so that the jitter of requests on their
      // way cannot bring two closer than the upstream's bucket allows.
      const knownQuota = {
        ratePerSec: upstreamOptions.ratePerSec * rateLimitOptions.knownQuotaShare,
        burst: upstreamOptions.burst - 2,
      };
      const runOnce = (policy: RateLimitPolicy) => async (repetition: Repetition) => {
        const prefix = `bench-rate-${repetition.seed}-${rateLimitPolicies.indexOf(policy)}`;
        await upstream.request({ op: 'reset' });
        const startAtMs = Date.now() + rateLimitOptions.startDelayMs;
        const results = await Promise.all(
          processes.map((child, i) =>
            child.request({
              policy,
              upstreamUrl: url,
              redisUrl: context.redisUrl,
              prefix,
              quota: knownQuota,
              clients: rateLimitOptions.clientsPerProcess,
              startAtMs,
              endAtMs: startAtMs + sizes.windowMs,
              seed: repetition.seed * 10 + i,
            }),
          ),
        );
        const { counts } = await upstream.request({ op: 'counts' });
        await deleteKeys(admin, prefix);
        return summarizeRun(results, sizes.windowMs, counts);
      };
      const runs = await interleaveArms({
        arms: rateLimitPolicies.map((policy) => ({ name: policy, run: runOnce(policy) })),
        repetitions: sizes.repetitions,
        seed: context.seed,
        // Each run starts from a fresh upstream bucket and fresh fleet keys; a warm-up pair would only
        // warm the JIT, at a cost of six windows.
        warmup: false,
        log: context.log,
        describe: (r) =>
          `G ${formatNumber(r.goodput)}, W ${formatNumber(r.wastePercent)} %, p99 ${formatNumber(r.p99Ms)} ms, Jain ${formatNumber(r.jainProcesses)}`,
      });
      const rows: ResultRow[] = [];
      for (const [i, policy] of rateLimitPolicies.entries()) {
        const armRuns = runs[i] ?? [];
        const isRunner = policy.startsWith('runner');
        const figure = (
          measure: string,
          label: string,
          unit: string,
          pick: (r: Run) => number,
          target?: Target,
        ) =>
          row(
            `${policy}: ${measure}`,
            medianOutcome(label, unit, summarize(armRuns.map(pick))),
            undefined,
            isRunner ? target : undefined,
          );
        rows.push(
          figure('goodput', 'G', '', (r) => r.goodput, { op: '>=', value: targets.goodput }),
          figure('waste', 'W', '%', (r) => r.wastePercent, { op: '<=', value: targets.wastePercent }),
          figure('p99 of a logical call', 'p99', 'ms', (r) => r.p99Ms),
          figure('fairness', 'Jain, 4 processes', '', (r) => r.jainProcesses, {
            op: '>=',
            value: targets.jain,
          }),
        );
      }
      const clientsJain = rateLimitPolicies
        .map(
          (policy, i) =>
            `${policy} ${formatNumber(summarize((runs[i] ?? []).map((r) => r.jainClients)).median)}`,
        )
        .join(', ');
      return {
        rows,
        details: Object.fromEntries(rateLimitPolicies.map((policy, i) => [policy, runs[i]])),
        notes: [
          `Upstream: a token bucket of R = ${upstreamOptions.ratePerSec} requests/s and burst B = ${upstreamOptions.burst} in a process of its own; an admitted request is answered after ${upstreamOptions.serviceMs} ms, any other at once with 429 and Retry-After in whole seconds, rounded up, as real servers send it. Reset to a full bucket before each run.`,
          `Callers: ${rateLimitOptions.processes} processes × ${rateLimitOptions.clientsPerProcess} callers in a closed loop (a caller starts its next logical call when the last one succeeds; a logical call retries until it does) for T = ${sizes.windowMs / 1000} s, all starting at once. ${sizes.repetitions} repetitions, the arms interleaved in the order of the table, each run on fresh fleet keys; medians, min–max in brackets.`,
          `Baselines over fetch with the llm policy's numbers (1 s doubling to 60 s): a static 5 s sleep; exponential without jitter; full jitter; full jitter but at least the 429's Retry-After, each request on its own. Runner: the real LlmClient with a FleetGuard on the Redis cooldown, retry budget and rate limiter (adaptive, Retry-After fed in) and the circuit breaker on the Redis circuit store, configured a little under the upstream's quota (RATE_LIMIT_LLM_PER_SEC = ${formatNumber(upstreamOptions.ratePerSec * rateLimitOptions.knownQuotaShare)}, burst ${upstreamOptions.burst - 2}), as an operator would: at exactly R and B the jitter of requests in flight brings an occasional one early, and each 429 holds the whole fleet for its Retry-After (1 s). A call the client gives up with a retryAt is made again at that time, as the job level would. The per-process spacer (100 ms) is off: on its own it would cap 4 processes at exactly 40 calls/s.`,
          `G = successes in the window ÷ (R·T + B), the most the bucket can admit; W = 429s ÷ attempts, as the callers counted them; p99 over the logical calls that succeeded and, as lower bounds, those still unfinished when the window closed; Jain's index (Σx)² ÷ (n·Σx²) over the successes of the 4 processes. Over the 32 callers (median): ${clientsJain}.`,
        ],
      };
    } finally {
      await Promise.all([upstream.close(), ...processes.map((child) => child.close())]);
      admin.disconnect();
    }
  },
};

function summarizeRun(results: ClientsResult[], windowMs: number, upstream: Record<string, number>): Run {
  const { ratePerSec, burst } = rateLimitOptions.upstream;
  const perProcess = results.map((r) => r.successes.reduce((sum, n) => sum + n, 0));
  const successes = perProcess.reduce((sum, n) => sum + n, 0);
  const attempts = results.reduce((sum, r) => sum + r.counts.attempts, 0);
  const throttled = results.reduce((sum, r) => sum + r.counts.throttled, 0);
  const latencies = results.flatMap((r) => [...r.latenciesMs, ...r.unfinishedAgesMs]);
  return {
    goodput: successes / ((ratePerSec * windowMs) / 1000 + burst),
    wastePercent: attempts === 0 ? 0 : (100 * throttled) / attempts,
    p99Ms: latencies.length === 0 ? windowMs : percentile(latencies, 99),
    jainProcesses: jainIndex(perProcess),
    jainClients: jainIndex(results.flatMap((r) => r.successes)),
    successes,
    attempts,
    throttled,
    unfinished: results.reduce((sum, r) => sum + r.unfinishedAgesMs.length, 0),
    upstream,
  };
}
