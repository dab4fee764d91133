// The worker process: `npm run worker` from the repository root.
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, withDotEnv } from '@runner/config';
import { EvictionPolicyError, waitForRedis } from '@runner/queue';
import { createLogger } from './logger.ts';
import { listeningPort, WorkerMetrics } from './metrics.ts';
import { type RunningWorker, startWorker } from './start-worker.ts';

// npm runs a workspace's scripts in its own folder; the .env file sits at the repository root.
const dotEnvPath = fileURLToPath(new URL('../../../.env', import.meta.url));

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(withDotEnv(undefined, dotEnvPath), { needs: ['githubApp', 'llm'] });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const workerId = config.worker.id ?? `${hostname()}:${process.pid}`;
const logger = createLogger(config.logLevel, undefined, { workerId });

// Listening before Redis answers, so that an orchestrator sees the process alive (/healthz) but not
// taking jobs (/readyz 503) while it waits.
const metrics = new WorkerMetrics();
let running: RunningWorker | undefined;
const metricsServer =
  config.metricsPort === undefined
    ? undefined
    : await metrics.serve(config.metricsPort, () => running?.isReady() ?? false);
if (metricsServer)
  logger.info({ port: listeningPort(metricsServer) }, `Metrics on :${listeningPort(metricsServer)}/metrics`);

// A stop asked for while Redis is still away ends the wait, and the process, at once.
const waiting = new AbortController();
const stopWaiting = () => waiting.abort();
process.once('SIGTERM', stopWaiting).once('SIGINT', stopWaiting);
try {
  await waitForRedis(config, logger, { signal: waiting.signal });
  running = await startWorker(
    { ...config, worker: { ...config.worker, id: workerId } },
    { logger, metrics: { metrics, server: metricsServer } },
  );
} catch (error) {
  if (waiting.signal.aborted) process.exit(0);
  if (!(error instanceof EvictionPolicyError)) throw error;
  console.error(error.message);
  process.exit(1);
}
process.off('SIGTERM', stopWaiting).off('SIGINT', stopWaiting);
const started: RunningWorker = running;

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'Stopping: no new jobs; waiting for active ones');
    started.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'Error while stopping');
        process.exit(1);
      },
    );
  });
}
