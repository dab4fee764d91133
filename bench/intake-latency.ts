import { setTimeout as sleep } from 'node:timers/promises';
import { type AgentQueue, exampleJobData } from '@runner/queue';
import type { DeliveryOptions } from './deliveries.ts';
import type { IntakeServer } from './intake-servers.ts';
import { percentile } from './lib/stats.ts';
import type { LoadGeneratorProcess } from './load-generator-client.ts';
import { type RunnerWorker, type RunnerWorkerOptions, startRunnerWorker } from './runner-worker.ts';

/** One open-loop phase against the runner's intake, summarised. */
export interface LatencyPhase {
  counted: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  overDeadline: number;
  statuses: Record<string, number>;
  sendLagP99Ms: number;
  /** Busy phases: jobs the saturated worker completed per second, and jobs still waiting at the end. */
  workerJobsPerSec?: number;
  backlogLeft?: number;
}

/** Saturated workers for a busy phase: a runner worker draining `queue` from a backlog. */
export interface BusyWorkers {
  queue: AgentQueue;
  /** Jobs kept waiting before the phase, so that the worker never runs dry. */
  backlogJobs: number;
  /** Makes the backlog's job ids unique. */
  backlogTag: string;
  /** Time for the worker to reach full concurrency before the first request is scheduled. In ms. */
  settleMs: number;
  worker: RunnerWorkerOptions;
}

export interface LatencyOptions {
  generator: LoadGeneratorProcess;
  runner: IntakeServer;
  deliveries: DeliveryOptions;
  ratePerSec: number;
  durationMs: number;
  warmupMs: number;
  /** Answers later than this are abandoned and counted at this latency (GitHub's 10 s). In ms. */
  deadlineMs: number;
  /** Absent: idle, no worker consumes the queue. */
  busy?: BusyWorkers;
}

/** An open-loop phase at a fixed rate against the runner's intake, with the workers idle or saturated. */
export async function measureLatency(options: LatencyOptions): Promise<LatencyPhase> {
  const { busy } = options;
  let worker: RunnerWorker | undefined;
  let completed = 0;
  if (busy) {
    await topUp(busy.queue, busy.backlogJobs, busy.backlogTag);
    worker = startRunnerWorker(busy.worker);
    await worker.worker.waitUntilReady();
    await sleep(busy.settleMs);
    worker.worker.on('completed', () => {
      completed += 1;
    });
  }
  const started = performance.now();
  try {
    const result = await options.generator.open({
      mode: 'open',
      url: options.runner.webhooksUrl,
      deliveries: options.deliveries,
      ratePerSec: options.ratePerSec,
      durationMs: options.durationMs,
      warmupMs: options.warmupMs,
      deadlineMs: options.deadlineMs,
    });
    const elapsedS = (performance.now() - started) / 1000;
    // An answer GitHub would have given up on counts as the deadline: the percentiles are then lower bounds.
    const latencies = [
      ...result.latenciesMs,
      ...Array.from({ length: result.overDeadline }, () => options.deadlineMs),
    ];
    if (latencies.length === 0)
      throw new Error(`no answers in an open-loop phase: ${JSON.stringify(result.statuses)}`);
    return {
      counted: result.counted,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: Math.max(...latencies),
      overDeadline: result.overDeadline,
      statuses: result.statuses,
      sendLagP99Ms: result.sendLagP99Ms,
      ...(busy && worker
        ? { workerJobsPerSec: completed / elapsedS, backlogLeft: await busy.queue.getWaitingCount() }
        : {}),
    };
  } finally {
    await worker?.close();
  }
}

/** Adds jobs until at least `count` are waiting. */
async function topUp(queue: AgentQueue, count: number, tag: string): Promise<void> {
  const missing = count - (await queue.getWaitingCount());
  for (let first = 0; first < missing; first += 1_000) {
    const ids = Array.from({ length: Math.min(1_000, missing - first) }, (_, i) => `${tag}-${first + i}`);
    await queue.addBulk(
      ids.map((id) => ({ name: 'issues.opened', data: exampleJobData(id), opts: { jobId: id } })),
    );
  }
}
