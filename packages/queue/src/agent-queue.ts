import { defaultPolicies, type RetryPolicy } from '@runner/retry';
import { type ConnectionOptions, type JobsOptions, Queue } from 'bullmq';
import type { AgentJobData } from './agent-job.ts';

export const agentQueueName = 'agent-jobs';

/** The name of our custom backoff strategy, registered by the worker (`agentBackoffStrategy`). */
export const agentBackoffType = 'runner';

/** How long finished jobs (and their retry history) stay for ops to read. In ms. */
export const jobRetention = {
  completedMs: 7 * 24 * 60 * 60_000,
  failedMs: 30 * 24 * 60 * 60_000,
} as const;

export interface AgentQueueOptions {
  connection: ConnectionOptions;
  /** BullMQ's key prefix (`QUEUE_PREFIX`); a hash tag such as `{runner}` keeps all keys in one cluster slot. */
  prefix: string;
  /** The job level's policy: `maxRetries` requeues. Default `defaultPolicies.job`. */
  policy?: RetryPolicy;
}

export type AgentQueue = Queue<AgentJobData, unknown, string>;

/** Options every agent job is added with: attempts from the job policy, our backoff, retention for ops. */
export function agentJobOptions(policy: RetryPolicy = defaultPolicies.job): JobsOptions {
  return {
    attempts: policy.maxRetries + 1,
    backoff: { type: agentBackoffType },
    removeOnComplete: { age: jobRetention.completedMs / 1000 },
    // Dead-lettered jobs stay with their whole history.
    removeOnFail: { age: jobRetention.failedMs / 1000 },
  };
}

export function createAgentQueue(options: AgentQueueOptions): AgentQueue {
  return new Queue<AgentJobData, unknown, string>(agentQueueName, {
    connection: options.connection,
    prefix: options.prefix,
    defaultJobOptions: agentJobOptions(options.policy),
  });
}
