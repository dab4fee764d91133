import { findFreePort } from '@runner/testkit';
import { type AppProcess, spawnApp } from '../app-process.ts';
import { type Harness, issue, startHarness } from '../harness.ts';

export interface IntakeWithWorkers {
  h: Harness;
  intake: AppProcess;
  workers: AppProcess[];
  /** POST deliveries to `${intakeUrl}/webhooks`. */
  intakeUrl: string;
  close(): Promise<void>;
}

/**
 * The intake and `workers` worker processes on Redis at `redisUrl`, with fake GitHub (an issue for each
 * of `numbers`) and LLM servers; resolves once the intake listens and every worker takes jobs.
 */
export async function startIntakeWithWorkers(options: {
  redisUrl: string;
  numbers: readonly number[];
  workers: number;
}): Promise<IntakeWithWorkers> {
  const h = await startHarness({
    redisUrl: options.redisUrl,
    noWorker: true,
    github: {
      issues: options.numbers.map((number) => ({
        owner: issue.owner,
        repo: issue.repo,
        number,
        title: `Outage ${number}`,
      })),
    },
    // A job whose worker lost Redis mid-run goes back to the queue within about 2 s instead of 30.
    env: {
      WORKER_LOCK_DURATION_MS: '2000',
      WORKER_STALLED_INTERVAL_MS: '1000',
      WORKER_CONCURRENCY: '4',
      LOG_LEVEL: 'info',
    },
  });
  const port = await findFreePort('127.0.0.1');
  const intake = spawnApp('webhooks', { ...h.env, WEBHOOKS_PORT: String(port) });
  const workers = Array.from({ length: options.workers }, () => spawnApp('worker', h.env));
  const close = async () => {
    await Promise.all([...workers, intake].map((app) => app.kill()));
    await h.close();
  };
  try {
    await Promise.all([
      intake.logged('listening on'),
      ...workers.map((worker) => worker.logged('Worker ready')),
    ]);
  } catch (error) {
    await close();
    throw error;
  }
  return { h, intake, workers, intakeUrl: `http://127.0.0.1:${port}`, close };
}
