import type { Server } from 'node:http';
import { request as octokitRequest } from '@octokit/request';
import { MaxTurnsError, runAgent } from '@runner/agent';
import { githubAppCredentials, type RunnerConfig } from '@runner/config';
import {
  createInstallationOctokit,
  createIssueTools,
  InstallationTokens,
  MutationQueue,
  RedisToolResultStore,
} from '@runner/github';
import { LlmClient } from '@runner/llm';
import {
  assertNoEviction,
  closeRedis,
  createAgentWorker,
  createRedisClient,
  FleetStats,
} from '@runner/queue';
import type { Logger } from '@runner/retry';
import { listeningPort, WorkerMetrics } from './metrics.ts';
import { createWorkerFleet } from './worker-fleet.ts';

export interface StartWorkerOptions {
  logger: Logger;
  /**
   * This process's series, and the server already listening on METRICS_PORT, when the caller started it
   * before Redis answered (`main.ts` does, so that `/readyz` says 503 while it waits). The worker closes
   * the server when it closes. Default: new metrics, served here when METRICS_PORT is set.
   */
  metrics?: { metrics: WorkerMetrics; server: Server | undefined };
}

export interface RunningWorker {
  /** This process's Prometheus series (served on METRICS_PORT when set). */
  metrics: WorkerMetrics;
  /** The port /metrics listens on, when METRICS_PORT is set (0 picks a free one). */
  metricsPort: number | undefined;
  /** Taking jobs: started, not closing, and connected to Redis. What `/readyz` answers. */
  isReady(): boolean;
  /** Stops taking jobs, lets active ones finish for up to `graceMs`, then closes. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Wires the three layers into one worker: the LLM client and the token client (layer 1, shared by the
 * process and attributing their retries to the job that made the call), the GitHub tools per job
 * (layer 2), and the BullMQ worker with job-level requeues and retry tracking (layer 3); the first two
 * cooperate with the other workers through the shared cooldowns, budgets, rate limits and circuits.
 */
export async function startWorker(config: RunnerConfig, options: StartWorkerOptions): Promise<RunningWorker> {
  const { logger } = options;
  const { appId, privateKey } = githubAppCredentials(config);
  const redis = createRedisClient(config, { maxRetriesPerRequest: null });
  try {
    await assertNoEviction(redis);
  } catch (error) {
    redis.disconnect();
    throw error;
  }

  const metrics = options.metrics?.metrics ?? new WorkerMetrics();
  const stats = new FleetStats(redis, config.queue.prefix);
  const fleet = createWorkerFleet(config, { logger, metrics, stats });
  const tokens = new InstallationTokens({
    appId,
    privateKey,
    baseUrl: config.github.apiUrl,
    policy: config.retry.githubToken,
    logger,
    request: octokitRequest.defaults({ request: { fetch: metrics.timedFetch('githubToken') } }),
    fleet: fleet.github,
  });
  const llm = new LlmClient({
    baseUrl: config.llm.baseUrl,
    apiKey: config.llm.apiKey,
    model: config.llm.model,
    policy: config.retry.llm,
    logger,
    fetch: metrics.timedFetch('llm'),
    fleet: fleet.llm,
    breaker: fleet.llmBreaker,
  });
  const mutations = new MutationQueue();
  // BullMQ's own connection, ours to close: it takes a cluster only as a client, not as options. The
  // tools' records go on it too: a job's first turn then sends all it writes in one socket write.
  const workerRedis = createRedisClient(config, { maxRetriesPerRequest: null });
  const results = new RedisToolResultStore(workerRedis, { prefix: config.queue.prefix });
  const worker = createAgentWorker({
    connection: workerRedis,
    redis,
    prefix: config.queue.prefix,
    concurrency: config.worker.concurrency,
    ...(config.worker.id === undefined ? {} : { workerId: config.worker.id }),
    deadlineMs: config.job.deadlineMs,
    policy: config.retry.job,
    logger,
    onRetry: (event) => metrics.retry(event),
    onOutcome: (outcome, reason) => metrics.outcome(outcome, reason),
    lockDurationMs: config.worker.lockDurationMs,
    stalledIntervalMs: config.worker.stalledIntervalMs,
    handle: async (data, job) => {
      const octokit = createInstallationOctokit({
        tokens,
        installationId: data.installationId,
        baseUrl: config.github.apiUrl,
        logger: job.logger,
        mutations,
        fetch: metrics.timedFetch('github'),
        onRetry: job.onRetry,
      });
      const tools = createIssueTools({
        octokit,
        issue: { owner: data.repository.owner, repo: data.repository.name, number: data.issueNumber },
        jobId: job.jobId,
        results,
        ...(job.run > 1 ? { earlierRunsSinceMs: job.createdAtMs } : {}),
        policy: config.retry.githubTools,
        logger: job.logger,
        onRetry: job.onRetry,
        deadlineAtMs: job.deadlineAtMs,
        fleet: fleet.installation(data.installationId),
        ...(job.signal ? { signal: job.signal } : {}),
      });
      const result = await runAgent({
        llm,
        tools,
        task: {
          repository: `${data.repository.owner}/${data.repository.name}`,
          issueNumber: data.issueNumber,
          event: data.event,
          sender: data.sender.login,
          ...(data.comment ? { comment: data.comment.body } : {}),
          ...(config.github.appSlug ? { appSlug: config.github.appSlug } : {}),
        },
        maxTurns: config.agent.maxTurns,
        logger: job.logger,
        onRetry: job.onRetry,
        deadlineAtMs: job.deadlineAtMs,
        ...(job.signal ? { signal: job.signal } : {}),
      });
      // A model that keeps calling tools is a job that did not get done: fail it with the reason.
      if (result.reason === 'max_turns') throw new MaxTurnsError(result.turns, result.toolCalls.length);
      return { reason: result.reason, turns: result.turns, toolCalls: result.toolCalls, usage: result.usage };
    },
  });
  worker.on('error', (error) => logger.error({ err: error }, 'Worker error'));
  await worker.waitUntilReady();
  logger.info(
    { concurrency: config.worker.concurrency, prefix: config.queue.prefix, workerId: config.worker.id },
    `Worker ready: taking jobs from ${config.queue.prefix}:agent-jobs`,
  );

  let closing = false;
  const isReady = () => !closing && worker.isRunning() && redis.status === 'ready';
  const metricsServer =
    options.metrics?.server ??
    (config.metricsPort === undefined ? undefined : await metrics.serve(config.metricsPort, isReady));
  if (metricsServer && !options.metrics?.server)
    logger.info(
      { port: listeningPort(metricsServer) },
      `Metrics on :${listeningPort(metricsServer)}/metrics`,
    );

  return {
    metrics,
    metricsPort: metricsServer ? listeningPort(metricsServer) : undefined,
    isReady,
    async close(graceMs = config.worker.shutdownGraceMs) {
      closing = true;
      let timer: NodeJS.Timeout | undefined;
      const graceful = worker.close();
      const expired = new Promise<'expired'>((resolve) => {
        timer = setTimeout(() => resolve('expired'), graceMs);
      });
      if ((await Promise.race([graceful, expired])) === 'expired') {
        // Jobs still running go back to the queue when their lock runs out: another worker takes them.
        logger.warn({ graceMs }, 'Active jobs did not finish within the grace period; closing anyway');
        await worker.close(true);
      }
      clearTimeout(timer);
      metricsServer?.close();
      await closeRedis(workerRedis);
      await closeRedis(redis);
      fleet.close();
    },
  };
}
