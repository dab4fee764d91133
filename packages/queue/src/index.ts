export {
  type AgentEvent,
  type AgentJobData,
  agentEvents,
  agentJobDataSchema,
  maxCommentChars,
  type ParsedJobData,
  parseAgentJobData,
} from './agent-job.ts';
export {
  type AgentQueue,
  type AgentQueueOptions,
  agentBackoffType,
  agentJobOptions,
  agentQueueName,
  createAgentQueue,
  jobRetention,
} from './agent-queue.ts';
export {
  type AgentJobContext,
  type AgentWorkerOptions,
  createAgentWorker,
  defaultAgentWorkerOptions,
  JobRequeueError,
} from './agent-worker.ts';
export {
  deliveryDedupeTtlMs,
  type EnqueueDeliveryOptions,
  type EnqueueResult,
  enqueueDelivery,
  validateJobData,
} from './enqueue-delivery.ts';
export { type CircuitReport, circuitStateValue, FleetStats, type JobOutcome } from './fleet-stats.ts';
export { holdJobStarts, jobStartSliceMs, maxJobStartDeferMs, waitForJobStart } from './job-starts.ts';
export {
  type InspectableState,
  inspectableStates,
  type JobDetails,
  type JobSummary,
  QueueInspector,
  type QueueStatus,
  type RetryOutcome,
} from './queue-inspector.ts';
export {
  connectionFailures,
  connectionReason,
  createRedisClient,
  nodeCredentials,
  type RedisClient,
  type RedisClusterNode,
  type RedisTarget,
  redisHost,
  redisMasters,
  redisTargetVariable,
} from './redis-client.ts';
export { closeRedis, connectRedis, failFastRedisOptions, RedisUnreachableError } from './redis-connection.ts';
export { assertNoEviction, EvictionPolicyError } from './redis-eviction-check.ts';
export { type JobRetryRecord, type LastError, maxTimelineEntries, RetryTracker } from './retry-tracker.ts';
export { exampleJobData } from './test-fixtures.ts';
export {
  describeEntry,
  formatTimeline,
  type TimelineEntry,
  type TimelineKind,
  type TimelineLayer,
} from './timeline.ts';
export { type WaitForRedisOptions, waitForRedis, waitForRedisBackoff } from './wait-for-redis.ts';
