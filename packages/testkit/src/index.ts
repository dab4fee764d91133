export { chatCompletion, type FakeToolCall } from './chat-completion.ts';
export { fakeAgentModel, type ModelTurn, triageModel } from './fake-agent-model.ts';
export {
  type AfterHandlingFault,
  defaultFakeGitHubOptions,
  type FakeGitHub,
  type FakeGitHubOptions,
  type FaultStep,
  startFakeGitHub,
  UnknownFakeGitHubRouteError,
} from './fake-github.ts';
export { type FakeGitHubRoute, fakeGitHubLimits, fakeGitHubRoutes } from './fake-github-handlers.ts';
export {
  defaultFakeCommenter,
  defaultFakeIssues,
  type FakeCommentSeed,
  type FakeGitHubComment,
  type FakeGitHubIssue,
  type FakeGitHubUser,
  type FakeIssueSeed,
  firstFakeCommentId,
} from './fake-github-state.ts';
export {
  defaultFakeUpstreamOptions,
  defaultWaitForRequestsOptions,
  type FakeUpstream,
  FakeUpstreamClosedError,
  type FakeUpstreamOptions,
  InvalidScriptError,
  type RouteScript,
  startFakeUpstream,
  type UpstreamScript,
  type WaitForRequestsOptions,
  WaitForRequestsTimeoutError,
} from './fake-upstream.ts';
export {
  type DelayStep,
  defaultReplyOptions,
  errorBody,
  type HangStep,
  malformedJsonBody,
  type RateLimitedOptions,
  type ResetMidBodyStep,
  type ResetStep,
  type RespondStep,
  reply,
  type Step,
  type StepFunction,
  type StepHeaders,
} from './fake-upstream-steps.ts';
export { findFreePort, NoFreePortError } from './free-port.ts';
export {
  defaultGitHubReplyOptions,
  githubMessages,
  githubReply,
  type PrimaryRateLimitOptions,
  type SecondaryRateLimitOptions,
} from './github-reply.ts';
export { StepNestingError } from './perform-step.ts';
export type { RecordedRequest } from './recorded-request.ts';
export {
  defaultRedisClusterOptions,
  type RedisClusterHandle,
  redisClusterUnavailable,
  type StartRedisClusterOptions,
  startRedisCluster,
} from './redis-cluster.ts';
export {
  InvalidRedisUrlError,
  RedisPortTakenError,
  RedisServerNotFoundError,
  RedisServerStartError,
  redisInstallHint,
} from './redis-errors.ts';
export {
  defaultRedisServerOptions,
  type RedisHandle,
  type RedisShutdownOptions,
  type StartRedisOptions,
  startRedis,
} from './redis-server.ts';
export { InvalidRouteError } from './route-matcher.ts';
export { uniquePrefix } from './unique-prefix.ts';
