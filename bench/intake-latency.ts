import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentQueue } from '@runner/queue';
import type { DeliveryOptions } from './deliveries.ts';
import type { IntakeServer } from './intake-servers.ts';
import { fillQueue } from './lib/fill-queue.ts';
import { percentile } from './lib/stats.ts';
import type { LoadGeneratorProcess } from './load-generator-client.ts';
import { type RunnerWorkerOptions, startRunnerWorker } from './runner-worker.ts';

/** One open-loop phase against the runner's intake, summarised. */
export interface LatencyPhase {
  counted: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  overDeadline: number;
  statuses: Record<string, number>;
  sendLagP99Ms: number;
  /**
   * How late this process's event loop ran, p99 over the phase (ms): the floor under the latency of an
   * intake that shares it with the saturated worker.
   */
  eventLoopDelayP99Ms: number;
  /** Busy phases: jobs the saturated worker completed per second, and jobs still waiting at the end. */
  workerJobsPerSec?: number;
  backlogLeft?: number;
}

export interface BusyWorkerOptions {
  queue: AgentQueue;
  /** Jobs kept waiting before each busy phase, so that the worker never runs dry. */
  backlogJobs: number;
  /** Makes the backlog's job ids unique. */
  backlogTag: string;
  /** How long the worker runs once at start, unmeasured, so that its code is compiled. In ms. */
  warmupMs: number;
  /** Time for the worker to reach full concurrency after a resume, before the first request is due. In ms. */
  settleMs: number;
  worker: RunnerWorkerOptions;
}

/**
 * The saturated worker of the busy phases: started (and warmed up) once per placement, paused while the
 * workers are idle and resumed for a busy phase. A paused BullMQ worker takes no jobs, so "idle" still
 * means that nothing consumes the queue; starting a fresh worker for every busy phase cost more time
 * than the phase measured.
 */
export class BusyWorker {
  private topUps = 0;

  private constructor(
    private readonly options: BusyWorkerOptions,
    private readonly running: ReturnType<typeof startRunnerWorker>,
  ) {}

  static async start(options: BusyWorkerOptions): Promise<BusyWorker> {
    const busy = new BusyWorker(options, startRunnerWorker(options.worker));
    await busy.topUp();
    await busy.running.worker.waitUntilReady();
    await sleep(options.warmupMs);
    await busy.running.worker.pause();
    return busy;
  }

  /** Runs `phase` with the worker consuming the queue; jobs it completed per second, and jobs still waiting. */
  async during<T>(phase: () => Promise<T>): Promise<{ result: T; jobsPerSec: number; backlogLeft: number }> {
    const { worker } = this.running;
    await this.topUp();
    let completed = 0;
    const count = () => {
      completed += 1;
    };
    worker.resume();
    await sleep(this.options.settleMs);
    worker.on('completed', count);
    const started = performance.now();
    try {
      const result = await phase();
      const jobsPerSec = completed / ((performance.now() - started) / 1000);
      return { result, jobsPerSec, backlogLeft: await this.options.queue.getWaitingCount() };
    } finally {
      worker.off('completed', count);
      await worker.pause();
    }
  }

  close(): Promise<void> {
    return this.running.close();
  }

  /** Adds jobs until at least `backlogJobs` are waiting. */
  private async topUp(): Promise<void> {
    const { queue, backlogJobs } = this.options;
    const missing = backlogJobs - (await queue.getWaitingCount());
    const tag = `${this.options.backlogTag}-${this.topUps}`;
    this.topUps += 1;
    await fillQueue(queue, missing, tag);
  }
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
  busy?: BusyWorker;
}

/** An open-loop phase at a fixed rate against the runner's intake, with the workers idle or saturated. */
export async function measureLatency(options: LatencyOptions): Promise<LatencyPhase> {
  const open = () =>
    options.generator.open({
      mode: 'open',
      url: options.runner.webhooksUrl,
      deliveries: options.deliveries,
      ratePerSec: options.ratePerSec,
      durationMs: options.durationMs,
      warmupMs: options.warmupMs,
      deadlineMs: options.deadlineMs,
    });
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const busy = options.busy === undefined ? undefined : await options.busy.during(open);
  const result = busy?.result ?? (await open());
  loopDelay.disable();
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
    eventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    ...(busy === undefined ? {} : { workerJobsPerSec: busy.jobsPerSec, backlogLeft: busy.backlogLeft }),
  };
}
