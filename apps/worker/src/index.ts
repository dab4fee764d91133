export { createLogger, redactPaths } from './logger.ts';
export { type RunningWorker, type StartWorkerOptions, startWorker } from './start-worker.ts';
