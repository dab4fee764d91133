export { ConfigError } from './config-error.ts';
export { withDotEnv } from './dot-env.ts';
export { configDefaults, type EnvVariable, envVariables } from './env-variables.ts';
export { githubAppCredentials } from './github-app-credentials.ts';
export { hasHashTag, type LoadConfigOptions, loadConfig } from './load-config.ts';
export {
  type ConfigNeed,
  type FleetConfig,
  type LogLevel,
  logLevels,
  type RateLimitConfig,
  type RedisNode,
  type RunnerConfig,
} from './runner-config.ts';
