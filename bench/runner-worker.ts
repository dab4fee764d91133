import { setTimeout as sleep } from 'node:timers/promises';
import type { RunnerConfig } from '@runner/config';
import { RedisToolResultStore, recordedSideEffect } from '@runner/github';
import { type AgentJobData, closeRedis, createAgentWorker } from '@runner/queue';
import type { Logger, Random } from '@runner/retry';
import type { WorkerMetrics } from '@runner/worker';
import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';

/** What one simulated job does besides the runner's own job path. */
export interface SimulatedJob {
  /** Time waiting on an upstream, as `await sleep`: the LLM or GitHub, without the network. In ms. */
  ioMs: number;
  /** Time on the CPU, spun synchronously: a stand-in for parsing and prompt building. In ms. */
  cpuMs: number;
}

export interface RunnerWorkerOptions {
  redisUrl: string;
  prefix: string;
  /** Production defaults (job deadline, lock, stalled interval, job policy) come from here. */
  config: RunnerConfig;
  concurrency: number;
  logger: Logger;
  metrics: WorkerMetrics;
  random: Random;
  job: SimulatedJob;
}

export interface RunnerWorker {
  worker: Worker<AgentJobData>;
  close(): Promise<void>;
}

/**
 * A worker on the runner's job path, wired as `apps/worker`'s `startWorker` wires it (a plain Redis client
 * for retry tracking and fleet stats, BullMQ's connection for tool results too; per-process metrics on
 * every outcome), with the agent replaced by a simulated job that does what a job does minus the
 * network: one upstream request timed into the duration histogram, one mutating tool call recorded for
 * reruns by the tools' own `recordedSideEffect` (a rerun looks the record up first; every run stores
 * it), one log line for the agent's turn.
 */
export function startRunnerWorker(options: RunnerWorkerOptions): RunnerWorker {
  const { config, metrics, job } = options;
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const bullRedis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const results = new RedisToolResultStore(bullRedis, { prefix: options.prefix });
  const worker = createAgentWorker({
    connection: bullRedis,
    redis,
    prefix: options.prefix,
    concurrency: options.concurrency,
    deadlineMs: config.job.deadlineMs,
    policy: config.retry.job,
    lockDurationMs: config.worker.lockDurationMs,
    stalledIntervalMs: config.worker.stalledIntervalMs,
    logger: options.logger,
    random: options.random,
    onRetry: (event) => metrics.retry(event),
    onOutcome: (outcome, reason) => metrics.outcome(outcome, reason),
    handle: async (_data, context) => {
      const endRequest = metrics.startRequest('llm');
      if (job.ioMs > 0) await sleep(job.ioMs);
      if (job.cpuMs > 0) spin(job.cpuMs);
      endRequest(200);
      // The tools' own record keeping, around a comment that is not posted.
      await recordedSideEffect(
        {
          jobId: context.jobId,
          results,
          ...(context.run > 1 ? { earlierRunsSinceMs: context.createdAtMs } : {}),
        },
        'comment_on_issue',
        0,
        async () => JSON.stringify({ commentId: '1', url: 'https://github.com/' }),
      );
      context.logger.info(
        { layer: 'agent', turn: 1, toolCalls: ['comment_on_issue'] },
        'Agent turn 1/8: calls comment_on_issue',
      );
      return { reason: 'answered', turns: 1, toolCalls: 1 };
    },
  });
  worker.on('error', (error) => options.logger.error({ err: error }, 'Worker error'));
  return {
    worker,
    async close() {
      await worker.close();
      await Promise.all([closeRedis(bullRedis), closeRedis(redis)]);
    },
  };
}

/** Keeps the CPU busy for `ms`, blocking the event loop as synchronous work does. */
export function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // Busy on purpose.
  }
}
