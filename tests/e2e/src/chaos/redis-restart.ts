// Fault suite, scenario 2: Redis (append-only) goes down mid-run, by SIGTERM or by SIGKILL, and comes
// back on its port a few seconds later. The intake answers 503 meanwhile; intake and workers reconnect
// by themselves; every delivery that got a 2xx completes, and no comment is posted twice.
import { startRedis } from '@runner/testkit';
import { duplicateComments } from './duplicate-comments.ts';
import { startIntakeWithWorkers } from './intake-with-workers.ts';
import { countEnds, jobEnds } from './job-ends.ts';
import { acknowledged, type Delivery, send, sendAtRate } from './open-loop.ts';

export interface RedisRestartOptions {
  deliveries: number;
  /** Deliveries sent per second, open loop. */
  deliveriesPerSec: number;
  workers: number;
  /** How Redis goes down: a clean shutdown (it writes its AOF) or a crash. */
  signal: 'SIGTERM' | 'SIGKILL';
  /** Redis's `appendfsync`: `always` loses nothing acknowledged in a crash, `everysec` up to ~1–2 s of it. */
  appendfsync: 'always' | 'everysec';
  /** Redis goes down this long after the first delivery, in ms. */
  downAfterMs: number;
  /** And stays down this long, in ms. */
  downForMs: number;
  /** Bound on each job's end after the last delivery. In ms. */
  settleTimeoutMs: number;
}

export interface RedisRestartFigures {
  /** Answered 2xx, counting the refused ones' redelivery after the outage. */
  acknowledged: number;
  /** Answered 503 (first sending). */
  refused: number;
  /** Answered anything else, or not within GitHub's 10 s: must be 0. */
  otherAnswers: number;
  /** Refused deliveries sent again once Redis was back (GitHub's "Redeliver"), and how many got a 2xx. */
  redelivered: number;
  redeliveredAcknowledged: number;
  completed: number;
  deadLettered: number;
  /** Acknowledged, but gone from Redis or unfinished when the bound ran out. */
  lost: number;
  /** Of the lost, the most time between the 2xx and Redis going down, in ms (what a crash took back). */
  lostAckedBeforeDownMs: number | undefined;
  duplicateComments: number;
  /** App processes that exited on their own: must be 0 (they reconnect). */
  appExits: number;
  /** How long Redis was away, in ms. */
  downMs: number;
  /** From Redis back to the intake's first 2xx after it, in ms. */
  intakeBackMs: number | undefined;
  /** From Redis back until every job acknowledged before then had finished (backlog drained), in ms. */
  recoveryMs: number;
}

export async function runRedisRestart(options: RedisRestartOptions): Promise<RedisRestartFigures> {
  const redis = await startRedis({
    forcePrivate: true,
    args: ['--appendonly', 'yes', '--appendfsync', options.appendfsync],
  });
  const numbers = Array.from({ length: options.deliveries }, (_, i) => 3_000 + i);
  const run = await startIntakeWithWorkers({ redisUrl: redis.url, numbers, workers: options.workers });
  try {
    let downAt = 0;
    let backAt = 0;
    const outage = (async () => {
      await new Promise((resolve) => setTimeout(resolve, options.downAfterMs));
      downAt = Date.now();
      await redis.shutdown({ signal: options.signal });
      // Planned downtime, not a wait for an event.
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, downAt + options.downForMs - Date.now())),
      );
      await redis.start();
      backAt = Date.now();
    })();
    const first = await sendAtRate(run.intakeUrl, numbers, options.deliveriesPerSec);
    await outage;
    // GitHub does not redeliver by itself; the app's "Recent Deliveries" page or its API does, with the
    // same delivery id and body.
    const refused = first.filter((delivery) => delivery.status === 503);
    const redeliveries = await Promise.all(refused.map((d) => send(run.intakeUrl, d.number, d.deliveryId)));
    const answers = [...first.filter((d) => d.status !== 503), ...redeliveries];
    const acked = answers.filter(acknowledged);

    const ends = await jobEnds(
      run.h,
      acked.map((d) => d.deliveryId),
      options.settleTimeoutMs,
    );
    const lostAcks = acked.filter((d) => {
      const state = ends.get(d.deliveryId)?.state;
      return state !== 'completed' && state !== 'failed';
    });
    const backlog = acked
      .filter((d) => d.answeredAt < backAt)
      .map((d) => ends.get(d.deliveryId)?.finishedOn ?? backAt);
    return {
      acknowledged: acked.length,
      refused: refused.length,
      otherAnswers: [...first, ...redeliveries].filter((d) => !acknowledged(d) && d.status !== 503).length,
      redelivered: redeliveries.length,
      redeliveredAcknowledged: redeliveries.filter(acknowledged).length,
      ...countEnds(ends),
      lostAckedBeforeDownMs:
        lostAcks.length === 0 ? undefined : Math.max(...lostAcks.map((d) => downAt - d.answeredAt)),
      duplicateComments: duplicateComments(run.h.github, numbers),
      appExits: [run.intake, ...run.workers].filter((app) => app.exited()).length,
      downMs: backAt - downAt,
      intakeBackMs: firstAckAfter(first, backAt),
      recoveryMs: Math.max(0, ...backlog.map((finishedOn) => finishedOn - backAt)),
    };
  } finally {
    await run.close();
    await redis.stop();
  }
}

function firstAckAfter(deliveries: readonly Delivery[], at: number): number | undefined {
  const after = deliveries.filter((d) => acknowledged(d) && d.sentAt >= at).map((d) => d.answeredAt - at);
  return after.length === 0 ? undefined : Math.min(...after);
}
