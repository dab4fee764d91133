import type { LatencyPhase } from './intake-latency.ts';
import type { ThroughputPhase } from './intake-throughput.ts';
import { armMeasure, medianOutcome, type ResultRow, row, sumOutcome, type Target } from './lib/benchmark.ts';
import { formatNumber } from './lib/format.ts';
import { median, pairedRatios, type Summary, summarize } from './lib/stats.ts';

/** What one placement measured: closed-loop pairs (baseline, runner) and open-loop pairs (idle, busy). */
export interface PlacementRun {
  label: string;
  ratePerSec: number;
  throughput: { a: ThroughputPhase[]; b: ThroughputPhase[] };
  latency: { a: LatencyPhase[]; b: LatencyPhase[] };
}

export interface IntakeTargets {
  requestsRatio: number;
  p99Ratio: number;
  overDeadline: number;
}

/** The paired ratio b ÷ a as a row's outcome, with both arms beside it. */
function pairedRow(
  measure: string,
  label: string,
  arms: readonly [
    { name: string; unit: string; values: Summary },
    { name: string; unit: string; values: Summary },
  ],
  target?: Target,
): ResultRow {
  const [a, b] = arms;
  return row(
    measure,
    medianOutcome(label, '', summarize(pairedRatios(b.values.raw, a.values.raw))),
    [armMeasure(a.name, a.unit, a.values), armMeasure(b.name, b.unit, b.values)],
    target,
  );
}

/** The table rows of one placement. */
export function placementRows(run: PlacementRun, targets: IntakeTargets, deadlineMs: number): ResultRow[] {
  const { label, ratePerSec, throughput, latency } = run;
  const of = <T>(phases: T[], pick: (phase: T) => number) => summarize(phases.map(pick));
  const rows = [
    pairedRow(
      `${label}: requests/s (closed loop, workers idle)`,
      'runner ÷ baseline',
      [
        { name: 'baseline', unit: 'req/s', values: of(throughput.a, (r) => r.perSecond) },
        { name: 'runner', unit: 'req/s', values: of(throughput.b, (r) => r.perSecond) },
      ],
      { op: '>=', value: targets.requestsRatio },
    ),
  ];
  const cpu = [throughput.a, throughput.b].map((phases) => of(phases, (r) => r.cpuMsPerRequest));
  if (cpu.every((s) => s.raw.every(Number.isFinite)))
    // No target: the cost behind the requests/s, steadier than it on a noisy machine.
    rows.push(
      pairedRow(`${label}: CPU per request (closed loop)`, 'runner ÷ baseline', [
        { name: 'baseline', unit: 'ms', values: cpu[0] as Summary },
        { name: 'runner', unit: 'ms', values: cpu[1] as Summary },
      ]),
    );
  const latencyRow = (p: 'p99Ms' | 'p50Ms', target?: Target) =>
    pairedRow(
      `${label}: ${p.slice(0, 3)} latency (open loop, ${ratePerSec} req/s)`,
      'busy ÷ idle',
      [
        { name: 'idle', unit: 'ms', values: of(latency.a, (l) => l[p]) },
        { name: 'busy', unit: 'ms', values: of(latency.b, (l) => l[p]) },
      ],
      target,
    );
  rows.push(
    latencyRow('p99Ms', { op: '<=', value: targets.p99Ratio }),
    // No target; the median is far less at the mercy of one scheduling hiccup than the p99.
    latencyRow('p50Ms'),
    row(
      `${label}: answers slower than ${deadlineMs / 1000} s (open loop)`,
      sumOutcome(
        'count',
        '',
        [...latency.a, ...latency.b].map((p) => p.overDeadline),
      ),
      undefined,
      { op: '<=', value: targets.overDeadline },
    ),
  );
  return rows;
}

/** The placement's note: the rate, the saturated worker, the generator's own lag, every status. */
export function placementNote(run: PlacementRun, closedLoopMax: number): string {
  const { label, ratePerSec, throughput, latency } = run;
  const all = [...latency.a, ...latency.b];
  const statuses = mergeCounts([...throughput.a, ...throughput.b].map((r) => r.statuses));
  const openStatuses = mergeCounts(all.map((p) => p.statuses));
  const busyRates = latency.b.map((p) => p.workerJobsPerSec ?? 0);
  return (
    `${label}: open-loop rate ${ratePerSec} req/s (the runner's closed-loop maximum was ${formatNumber(closedLoopMax)} req/s)` +
    `; saturated worker ${formatNumber(median(busyRates))} jobs/s, backlog never empty: ${latency.b.every((p) => (p.backlogLeft ?? 0) > 0) ? 'yes' : 'NO'}` +
    `; the generator's own send lag, p99 per phase: median ${formatNumber(median(all.map((p) => p.sendLagP99Ms)))} ms, max ${formatNumber(Math.max(...all.map((p) => p.sendLagP99Ms)))} ms (it is inside every latency)` +
    `; this process's event-loop delay, p99 per phase, median: idle ${formatNumber(median(latency.a.map((p) => p.eventLoopDelayP99Ms)))} ms, busy ${formatNumber(median(latency.b.map((p) => p.eventLoopDelayP99Ms)))} ms` +
    `; answers: closed loop ${JSON.stringify(statuses)}, open loop ${JSON.stringify(openStatuses)}.`
  );
}

function mergeCounts(counts: ReadonlyArray<Record<string, number>>): Record<string, number> {
  const merged: Record<string, number> = {};
  for (const count of counts)
    for (const [key, n] of Object.entries(count)) merged[key] = (merged[key] ?? 0) + n;
  return merged;
}
