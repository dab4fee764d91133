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
