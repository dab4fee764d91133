// Fault suite, scenario 6: Redis stops answering for 15 s (`CLIENT PAUSE`) while deliveries arrive.
// The intake must answer each within 9 s, under GitHub's 10 s deadline: 202 when it stored the job,
// 503 when it could not; once Redis answers again, deliveries are taken and every 2xx one completes.
import { startRedis } from '@runner/testkit';
import { Redis } from 'ioredis';
import { duplicateComments } from './duplicate-comments.ts';
import { startIntakeWithWorkers } from './intake-with-workers.ts';
import { countEnds, jobEnds } from './job-ends.ts';
import { acknowledged, send, sendAtRate } from './open-loop.ts';

/** The intake's bound: a second of margin under GitHub's 10 s for the network and GitHub's own clock. */
export const intakeAnswerBoundMs = 9_000;

export interface SlowRedisOptions {
  deliveries: number;
  /** Deliveries sent per second, open loop. */
  deliveriesPerSec: number;
  workers: number;
  /** Redis is paused this long after the first delivery, in ms. */
  pauseAfterMs: number;
  /** For this long, in ms (`CLIENT PAUSE <ms> ALL`). */
  pauseMs: number;
  /** Bound on each job's end after the last delivery. In ms. */
  settleTimeoutMs: number;
}

export interface SlowRedisFigures {
  /** Answered 2xx, counting the refused ones' redelivery after the pause. */
  acknowledged: number;
  /** Answered 503 (first sending). */
  refused: number;
  /** Answered anything else, or not within GitHub's 10 s: must be 0. */
  otherAnswers: number;
  /** The slowest answer, in ms, and how many took longer than {@link intakeAnswerBoundMs}. */
  maxLatencyMs: number;
  overBound: number;
  /** Sent after the pause ended, and of those answered 2xx. */
  sentAfterPause: number;
  acknowledgedAfterPause: number;
  /** Refused deliveries sent again after the pause (GitHub's "Redeliver"), and how many got a 2xx. */
  redelivered: number;
  redeliveredAcknowledged: number;
  completed: number;
  deadLettered: number;
  lost: number;
  duplicateComments: number;
  appExits: number;
}

export async function runSlowRedis(options: SlowRedisOptions): Promise<SlowRedisFigures> {
  const redis = await startRedis({ forcePrivate: true, args: ['--appendonly', 'yes'] });
  const numbers = Array.from({ length: options.deliveries }, (_, i) => 4_000 + i);
  const run = await startIntakeWithWorkers({ redisUrl: redis.url, numbers, workers: options.workers });
  const admin = new Redis(redis.url);
  try {
    let resumedAt = 0;
    const pause = (async () => {
      await new Promise((resolve) => setTimeout(resolve, options.pauseAfterMs));
      await admin.call('CLIENT', 'PAUSE', String(options.pauseMs), 'ALL');
      resumedAt = Date.now() + options.pauseMs;
    })();
    const first = await sendAtRate(run.intakeUrl, numbers, options.deliveriesPerSec);
    await pause;
    // The pause has a planned end; the redelivery (same id and body) comes after it, as an operator's would.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, resumedAt - Date.now())));
    const refused = first.filter((delivery) => delivery.status === 503);
    const redeliveries = await Promise.all(refused.map((d) => send(run.intakeUrl, d.number, d.deliveryId)));
    const all = [...first, ...redeliveries];
    const acked = [...first, ...redeliveries].filter(acknowledged);
    const ends = await jobEnds(
      run.h,
      acked.map((d) => d.deliveryId),
      options.settleTimeoutMs,
    );
    const afterPause = first.filter((d) => d.sentAt >= resumedAt);
    return {
      acknowledged: acked.length,
      refused: refused.length,
      otherAnswers: all.filter((d) => !acknowledged(d) && d.status !== 503).length,
      maxLatencyMs: Math.max(...all.map((d) => d.latencyMs)),
      overBound: all.filter((d) => d.latencyMs > intakeAnswerBoundMs).length,
      sentAfterPause: afterPause.length,
      acknowledgedAfterPause: afterPause.filter(acknowledged).length,
      redelivered: redeliveries.length,
      redeliveredAcknowledged: redeliveries.filter(acknowledged).length,
      ...countEnds(ends),
      duplicateComments: duplicateComments(run.h.github, numbers),
      appExits: [run.intake, ...run.workers].filter((app) => app.exited()).length,
    };
  } finally {
    admin.disconnect();
    await run.close();
    await redis.stop();
  }
}
