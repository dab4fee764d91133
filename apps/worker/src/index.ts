export {
  createLogger,
  logBufferBytes,
  logDestination,
  logFlushIntervalMs,
  maxRedactDepth,
  redactedKeys,
  redactSecrets,
} from './logger.ts';
export { WorkerMetrics } from './metrics.ts';
export { type RunningWorker, type StartWorkerOptions, startWorker } from './start-worker.ts';
