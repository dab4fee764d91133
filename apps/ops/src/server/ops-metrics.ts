import {
  circuitStateValue,
  type FleetStats,
  inspectableStates,
  type JobOutcome,
  type QueueInspector,
  type QueueStatus,
} from '@runner/queue';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/** Prefix of the Node process metrics (`collectDefaultMetrics`) of the ops server itself. */
export const opsProcessMetricsPrefix = 'runner_ops_';

/** What one scrape reads from Redis, once, for all the series below. */
interface FleetSnapshot {
  retries: Array<{ layer: string; target: string; reason: string; count: number }>;
  jobs: Record<JobOutcome, number>;
  status: QueueStatus;
}

/**
 * The ops server's Prometheus registry: fleet-wide series read from Redis at scrape time (what all workers
 * counted in `FleetStats`, and the queue as `QueueInspector` sees it), plus this process's Node metrics. A
 * fresh `Registry`, never prom-client's global one, so that two servers in one process (tests) stay apart.
 *
 * - `runner_retries_total{layer,target,reason}` counter: retries by layer (request, tool, job), target
 *   (llm, githubToken, a tool name, agent) and reason (`HTTP 429`, ...), fleet-wide since the stats began.
 * - `runner_jobs_total{outcome}` counter: job runs by outcome (completed, failed, requeued, delayed,
 *   dead_lettered), fleet-wide.
 * - `runner_queue_jobs{state}` gauge: jobs in each state now (waiting, active, delayed, completed, failed,
 *   dead-lettered, paused); dead-lettered jobs are also counted in failed.
 * - `runner_queue_workers` gauge: workers connected to the queue now.
 * - `runner_circuit_state{target}` gauge: each upstream's circuit as workers last reported it: 0 closed,
 *   1 half-open, 2 open.
 * - `runner_ops_*`: the ops process's own CPU, memory, event loop and GC.
 *
 * `runner_upstream_request_duration_seconds` is not here: it is measured per process, by each worker, on
 * its own `/metrics` (`METRICS_PORT`).
 *
 * The counters are read as Redis stores them and set on each scrape; they only go down if the stats in
 * Redis are deleted, which Prometheus's `rate()` reads as a counter reset.
 */
export function createOpsMetrics(inspector: QueueInspector, stats: FleetStats): Registry {
  const registry = new Registry();
  // One Redis read per scrape, shared by every series' collect(): prom-client calls them all at once.
  let pending: Promise<FleetSnapshot> | undefined;
  const snapshot = (): Promise<FleetSnapshot> => {
    pending ??= (async () => {
      const [retries, jobs, status] = await Promise.all([
        stats.retriesTotal(),
        stats.jobsTotal(),
        inspector.status(),
      ]);
      return { retries, jobs, status };
    })().finally(() => {
      pending = undefined;
    });
    return pending;
  };

  new Counter({
    name: 'runner_retries_total',
    help: 'Retries fleet-wide (all workers, from Redis) by layer (request, tool, job), target and reason',
    labelNames: ['layer', 'target', 'reason'] as const,
    registers: [registry],
    async collect() {
      const { retries } = await snapshot();
      this.reset();
      for (const { layer, target, reason, count } of retries) this.inc({ layer, target, reason }, count);
    },
  });
  new Counter({
    name: 'runner_jobs_total',
    help: 'Job runs fleet-wide (from Redis) by outcome: completed, failed, requeued, delayed, dead_lettered',
    labelNames: ['outcome'] as const,
    registers: [registry],
    async collect() {
      const { jobs } = await snapshot();
      this.reset();
      for (const [outcome, count] of Object.entries(jobs)) this.inc({ outcome }, count);
    },
  });
  new Gauge({
    name: 'runner_queue_jobs',
    help: 'Jobs in the queue now by state; dead-lettered jobs are also counted in failed',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const { status } = await snapshot();
      for (const state of inspectableStates) this.set({ state }, status.counts[state]);
    },
  });
  new Gauge({
    name: 'runner_queue_workers',
    help: 'Workers connected to the queue now',
    registers: [registry],
    async collect() {
      this.set((await snapshot()).status.workers);
    },
  });
  new Gauge({
    name: 'runner_circuit_state',
    help: "Each upstream's circuit as workers last reported it: 0 closed, 1 half-open, 2 open",
    labelNames: ['target'] as const,
    registers: [registry],
    async collect() {
      const { status } = await snapshot();
      this.reset();
      for (const circuit of status.circuits) {
        this.set({ target: circuit.name }, circuitStateValue[circuit.state] ?? circuitStateValue.open);
      }
    },
  });
  collectDefaultMetrics({ register: registry, prefix: opsProcessMetricsPrefix });
  return registry;
}
