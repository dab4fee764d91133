// Fault suite, scenario 1: worker processes killed with SIGKILL on a beat while deliveries pour in.
// Every acknowledged delivery must end completed, none lost, no comment posted twice.
import { performance } from 'node:perf_hooks';
import { seededRandom } from '@runner/retry';
import { findFreePort, type RedisHandle } from '@runner/testkit';
import { type AppProcess, spawnApp } from '../app-process.ts';
import { issue, startHarness } from '../harness.ts';
import { duplicateComments } from './duplicate-comments.ts';
import { acknowledged, type Delivery, send, sendAtRate } from './open-loop.ts';

export interface WorkerCrashesOptions {
  redis: RedisHandle;
  deliveries: number;
  /** Deliveries sent per second, open loop. */
  deliveriesPerSec: number;
  workers: number;
  /** One worker, picked at random, is killed and replaced this often while deliveries arrive. In ms. */
  killEveryMs: number;
  /** Bound on the whole scenario after the last delivery. In ms. */
  settleTimeoutMs: number;
  seed?: number;
}

/** What the scenario reports, and what its test and `npm run chaos` check. */
export interface WorkerCrashesFigures {
  /** Answered 2xx, counting the refused ones' redelivery once the deliveries are all sent. */
  acknowledged: number;
  /** Not answered 2xx the first time, by status (`no answer` within GitHub's 10 s): 503 on a stalled machine. */
  refused: Record<string, number>;
  /** Of the refused ones, answered 2xx when sent again with the same delivery id, as GitHub redelivers. */
  redeliveredAcknowledged: number;
  completed: number;
  deadLettered: number;
  /** Acknowledged, but neither completed nor failed for good when the bound ran out. */
  lost: number;
  /** Comments beyond the first on an issue: each delivery is for an issue of its own. */
  duplicateComments: number;
  kills: number;
  /** From the last kill until every acknowledged job had finished (the backlog drained). In ms. */
  recoveryMs: number;
}

/**
 * Runs the intake and `workers` worker processes against fake GitHub and LLM servers, sends
 * `deliveries` signed deliveries (one issue and installation each, so that no write waits behind
 * another's 1 s gap), and kills a worker every `killEveryMs` until the last one is sent.
 */
export async function runWorkerCrashes(options: WorkerCrashesOptions): Promise<WorkerCrashesFigures> {
  const random = seededRandom(options.seed ?? 7);
  const numbers = Array.from({ length: options.deliveries }, (_, i) => 1_000 + i);
  const h = await startHarness({
    redisUrl: options.redis.url,
    noWorker: true,
    github: {
      issues: numbers.map((number) => ({
        owner: issue.owner,
        repo: issue.repo,
        number,
        title: `Crash ${number}`,
      })),
    },
    // A killed worker's jobs go back to the queue within about 2 s instead of 30.
    env: { WORKER_LOCK_DURATION_MS: '2000', WORKER_STALLED_INTERVAL_MS: '1000', WORKER_CONCURRENCY: '4' },
  });
  const port = await findFreePort('127.0.0.1');
  const intake = spawnApp('webhooks', { ...h.env, WEBHOOKS_PORT: String(port), LOG_LEVEL: 'info' });
  const workers: AppProcess[] = Array.from({ length: options.workers }, () => spawnApp('worker', h.env));
  const killed: AppProcess[] = [];
  try {
    await intake.logged('listening on');
    const intakeUrl = `http://127.0.0.1:${port}`;
    let kills = 0;
    let lastKillAtMs = performance.now();
    const killer = setInterval(() => {
      const index = Math.floor(random() * workers.length);
      const victim = workers[index];
      if (!victim) return;
      killed.push(victim);
      void victim.kill('SIGKILL');
      workers[index] = spawnApp('worker', h.env);
      kills += 1;
      lastKillAtMs = performance.now();
    }, options.killEveryMs);

    const first = await sendAtRate(intakeUrl, numbers, options.deliveriesPerSec);
    clearInterval(killer);
    // The intake's contract: a delivery it could not store is answered 503 (within its enqueue deadline,
    // which a machine stalled by the killing and respawning can exceed), and GitHub's redelivery brings it
    // again. What must hold is that nothing acknowledged is lost. A 503'd command may still have stored
    // the job after the answer: its redelivery is then a 200 duplicate for that job, which is as good.
    const refused = first.filter((delivery) => !acknowledged(delivery));
    const redeliveries: Delivery[] = [];
    for (const { number, deliveryId } of refused)
      redeliveries.push(await send(intakeUrl, number, deliveryId));
    const refusedStatuses: Record<string, number> = {};
    for (const { status } of refused) refusedStatuses[status] = (refusedStatuses[status] ?? 0) + 1;
    const ids = [...first, ...redeliveries].filter(acknowledged).map((delivery) => delivery.deliveryId);

    const outcomes = await Promise.all(ids.map((id) => h.waitForJob(id, options.settleTimeoutMs)));
    const recoveryMs = performance.now() - lastKillAtMs;
    const states = await Promise.all(outcomes.map(({ job }) => job.getState()));
    const completed = states.filter((state) => state === 'completed').length;
    const deadLettered = states.filter((state) => state === 'failed').length;
    return {
      acknowledged: ids.length,
      refused: refusedStatuses,
      redeliveredAcknowledged: redeliveries.filter(acknowledged).length,
      completed,
      deadLettered,
      lost: ids.length - completed - deadLettered,
      duplicateComments: duplicateComments(h.github, numbers),
      kills,
      recoveryMs,
    };
  } finally {
    await Promise.all([...workers, ...killed, intake].map((app) => app.kill()));
    await h.close();
  }
}
