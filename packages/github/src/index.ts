export {
  classifyGitHubError,
  secondaryRateLimitWaitMs,
} from './classify-github-error.ts';
export {
  GitHubError,
  type GitHubErrorCode,
  type GitHubErrorDetails,
  type GitHubLayer,
  isGitHubError,
} from './errors.ts';
export {
  createGitHubFleetGuard,
  type InstallationFleet,
  installationTarget,
} from './installation-fleet.ts';
export {
  createInstallationOctokit,
  defaultPropagationRetry,
  GitHubOctokit,
  type InstallationOctokit,
  type InstallationOctokitOptions,
} from './installation-octokit.ts';
export {
  defaultInstallationTokensOptions,
  type GetInstallationTokenOptions,
  type InstallationToken,
  InstallationTokens,
  type InstallationTokensOptions,
  type OctokitRequest,
} from './installation-tokens.ts';
export {
  defaultMutationQueueOptions,
  MutationQueue,
  type MutationQueueOptions,
  mutatingMethods,
} from './mutation-queue.ts';
export { callGitHub, type ToolCallOptions } from './tool-call.ts';
export {
  defaultToolResultTtlMs,
  RedisToolResultStore,
  type RedisToolResultStoreOptions,
  type ToolResultStore,
} from './tool-result-store.ts';
export { addLabelsTool } from './tools/add-labels.ts';
export { commentOnIssueTool, githubCommentMaxChars } from './tools/comment-on-issue.ts';
export { createIssueTools } from './tools/create-issue-tools.ts';
export { getIssueLimits, getIssueTool } from './tools/get-issue.ts';
export { commentMarker, idempotencyKey, withoutMarker } from './tools/idempotency.ts';
export { type RecordedSideEffectContext, recordedSideEffect } from './tools/recorded-side-effect.ts';
export type { FunctionToolDefinition, IssueRef, IssueTool, IssueToolContext } from './tools/tool.ts';
