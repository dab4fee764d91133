import { generateKeyPairSync } from 'node:crypto';
import { loadConfig, type RunnerConfig } from '@runner/config';
import {
  type AgentJobData,
  type AgentQueue,
  closeRedis,
  createAgentQueue,
  createRedisClient,
  RetryTracker,
} from '@runner/queue';
import {
  type FakeGitHub,
  type FakeGitHubOptions,
  type FakeUpstream,
  type RouteScript,
  startFakeGitHub,
  startFakeUpstream,
  triageModel,
  uniquePrefix,
} from '@runner/testkit';
import { createLogger, type RunningWorker, startWorker } from '@runner/worker';
import { type Job, QueueEvents } from 'bullmq';

export const llmRoute = 'POST /v1/chat/completions';
export const issue = { owner: 'octo-org', repo: 'octo-repo', number: 1 } as const;
export const webhookSecret = 'e2e-webhook-secret';

let appKey: string | undefined;
/** One RSA key for the whole run: generating one takes ~100 ms. */
export function appPrivateKey(): string {
  appKey ??= generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  }).privateKey;
  return appKey;
}

/**
 * Quick numbers for the policies, so that a test sees every layer retry in milliseconds rather than
 * minutes; server hints (Retry-After, resets) are still honoured as sent.
 */
export const fastRetryEnv: Record<string, string> = {
  RETRY_LLM_INITIAL_DELAY_MS: '20',
  RETRY_GITHUB_TOKEN_INITIAL_DELAY_MS: '20',
  RETRY_GITHUB_TOOLS_INITIAL_DELAY_MS: '20',
  RETRY_GITHUB_TOOLS_MAX_DELAY_MS: '5000',
  RETRY_JOB_INITIAL_DELAY_MS: '50',
  RETRY_JOB_MAX_DELAY_MS: '200',
};

export interface HarnessOptions {
  redisUrl: string;
  /** `REDIS_CLUSTER_NODES`: run on a Redis Cluster (then `prefix` needs a hash tag). */
  redisClusterNodes?: string;
  /** `QUEUE_PREFIX`. Default: a fresh unique prefix. */
  prefix?: string;
  llm?: RouteScript;
  github?: FakeGitHubOptions;
  env?: Record<string, string>;
  /** Start no in-process worker (a test that runs workers as processes). */
  noWorker?: boolean;
}

export interface Harness {
  env: Record<string, string>;
  config: RunnerConfig;
  github: FakeGitHub;
  llm: FakeUpstream;
  queue: AgentQueue;
  tracker: RetryTracker;
  jobData(deliveryId: string): AgentJobData;
  /** Adds a job and waits, bounded, until it completes or fails for good. */
  runJob(data: AgentJobData, timeoutMs?: number): Promise<{ completed: boolean; error?: Error; job: Job }>;
  waitForJob(jobId: string, timeoutMs?: number): Promise<{ completed: boolean; error?: Error; job: Job }>;
  /** The in-process worker, when one was started. */
  worker: RunningWorker | undefined;
  /** The app's comments on the test issue. */
  botComments(): Array<{ body: string }>;
  close(): Promise<void>;
}

/** Fake GitHub and LLM on loopback, a worker wired exactly as in production, on its own key prefix. */
export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const github = await startFakeGitHub(options.github);
  const llm = await startFakeUpstream({ [llmRoute]: options.llm ?? [triageModel()] });
  const prefix = options.prefix ?? uniquePrefix('e2e');
  const env: Record<string, string> = {
    REDIS_URL: options.redisUrl,
    ...(options.redisClusterNodes === undefined ? {} : { REDIS_CLUSTER_NODES: options.redisClusterNodes }),
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'silent',
    GITHUB_APP_ID: '123456',
    GITHUB_APP_PRIVATE_KEY: appPrivateKey(),
    GITHUB_API_URL: github.url,
    GITHUB_WEBHOOK_SECRET: webhookSecret,
    GITHUB_APP_SLUG: 'runner-app',
    LLM_BASE_URL: `${llm.url}/v1`,
    LLM_API_KEY: 'e2e-llm-key',
    ...fastRetryEnv,
    ...options.env,
  };
  const config = loadConfig(env, { needs: ['githubApp', 'webhooks'] });
  // Clients made as the apps make them (a Cluster when REDIS_CLUSTER_NODES is set); QueueEvents
  // duplicates its own, the queue shares the one it is given.
  const connection = createRedisClient(config, { maxRetriesPerRequest: null });
  const queue = createAgentQueue({ connection, prefix, policy: config.retry.job });
  const events = new QueueEvents('agent-jobs', { connection, prefix });
  await events.waitUntilReady();
  const redis = createRedisClient(config);
  // A test may take Redis down on purpose; these clients reconnect by themselves meanwhile.
  // A test may wait on hundreds of jobs at once (the fault suite), and each wait listens on the queue.
  queue.setMaxListeners(0);
  const ignore = () => {};
  queue.on('error', ignore);
  events.on('error', ignore);
  redis.on('error', ignore);
  connection.on('error', ignore);
  const tracker = new RetryTracker(redis, prefix);
  let worker: RunningWorker | undefined;
  if (!options.noWorker) worker = await startWorker(config, { logger: createLogger(config.logLevel) });

  const waitForJob = async (jobId: string, timeoutMs = 20_000) => {
    const job = await queue.getJob(jobId);
    if (!job) throw new Error(`No job ${jobId}`);
    const outcome: { completed: boolean; error?: Error } = await job
      .waitUntilFinished(events, timeoutMs)
      .then(
        () => ({ completed: true }),
        (error: unknown) => ({ completed: false, error: error as Error }),
      );
    return { ...outcome, job: (await queue.getJob(jobId)) ?? job };
  };

  return {
    env,
    config,
    github,
    llm,
    queue,
    tracker,
    jobData: (deliveryId) => ({
      deliveryId,
      event: 'issues.opened',
      installationId: 42,
      repository: { owner: issue.owner, name: issue.repo },
      issueNumber: issue.number,
      isPullRequest: false,
      sender: { login: 'octocat', type: 'User' },
      receivedAt: new Date().toISOString(),
    }),
    async runJob(data, timeoutMs) {
      await queue.add(data.event, data, { jobId: data.deliveryId });
      return waitForJob(data.deliveryId, timeoutMs);
    },
    waitForJob,
    worker,
    botComments: () =>
      github.comments(issue.owner, issue.repo, issue.number).filter((c) => c.user.type === 'Bot'),
    async close() {
      await worker?.close(5_000);
      await events.close();
      await queue.close();
      await closeRedis(connection);
      redis.disconnect();
      await llm.close();
      await github.close();
    },
  };
}
