// The runner-ops CLI, for scripts and tests that drive it in-process.
export { exitCodes } from './cli/cli-errors.ts';
export { DurationError, parseDuration } from './cli/parse-duration.ts';
export { type RunCliOptions, runCli } from './cli/run-cli.ts';

// The ops HTTP server: dashboard, job retry timelines, /metrics.
export { isAuthorized, isLoopbackHost } from './server/ops-auth.ts';
export { createOpsLogger, redactPaths as opsRedactPaths } from './server/ops-logger.ts';
export { createOpsMetrics } from './server/ops-metrics.ts';
export { OpsTokenRequiredError } from './server/ops-token-required-error.ts';
export {
  defaultStartOpsServerOptions,
  type RunningOpsServer,
  type StartOpsServerOptions,
  startOpsServer,
} from './server/start-ops-server.ts';
export {
  defaultTimelineSvgOptions,
  renderTimelineSvg,
  type TimelineSvgOptions,
} from './server/timeline-svg.ts';
