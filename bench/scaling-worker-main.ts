// A worker process for the scaling benchmark: on request, runs the runner's job path (`startRunnerWorker`)
// on a given prefix until told to stop. Forked by bench/scaling.ts, driven over IPC.
import { join } from 'node:path';
import { loadConfig } from '@runner/config';
import { seededRandom } from '@runner/retry';
import { createLogger, logDestination, WorkerMetrics } from '@runner/worker';
import { serveIpc } from './lib/ipc-child.ts';
import { type RunnerWorker, startRunnerWorker } from './runner-worker.ts';

export type ScalingRequest =
  | { kind: 'start'; prefix: string; ioMs: number; concurrency: number; seed: number }
  | { kind: 'stop' };

const [redisUrl = '', logDir = ''] = process.argv.slice(2);
const config = loadConfig({ REDIS_URL: redisUrl });
const metrics = new WorkerMetrics();
const logger = createLogger(
  config.logLevel,
  logDestination(join(logDir, `scaling-worker-${process.pid}.log`)),
);
let running: RunnerWorker | undefined;

serveIpc<ScalingRequest & { id: number }, null>(async (request) => {
  if (request.kind === 'stop') {
    await running?.close();
    running = undefined;
    return null;
  }
  running = startRunnerWorker({
    redisUrl,
    prefix: request.prefix,
    config,
    concurrency: request.concurrency,
    logger,
    metrics,
    random: seededRandom(request.seed),
    job: { ioMs: request.ioMs, cpuMs: 0 },
  });
  await running.worker.waitUntilReady();
  return null;
});
