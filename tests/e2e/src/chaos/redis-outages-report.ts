// `npm run chaos`, scenarios 2 and 6: Redis restarts under load and a slow Redis, at full size, each
// printed as a figures table and a passed/FAILED line.
import { figuresTable, seconds } from './figures-table.ts';
import { type RedisRestartFigures, type RedisRestartOptions, runRedisRestart } from './redis-restart.ts';
import { intakeAnswerBoundMs, runSlowRedis } from './slow-redis.ts';

const restartSize = {
  deliveries: 600,
  deliveriesPerSec: 20,
  workers: 3,
  downAfterMs: 10_000,
  downForMs: 5_000,
  settleTimeoutMs: 180_000,
} as const;

/** How far back a crash of an `everysec` Redis may reach: its fsync each second, which may lag a second more. */
const everysecLossWindowMs = 2_000;

const restarts: ReadonlyArray<Pick<RedisRestartOptions, 'signal' | 'appendfsync'>> = [
  { signal: 'SIGTERM', appendfsync: 'everysec' },
  { signal: 'SIGKILL', appendfsync: 'always' },
  { signal: 'SIGKILL', appendfsync: 'everysec' },
];

function write(text: string): void {
  process.stdout.write(text);
}

function verdict(passed: boolean, what: string): boolean {
  write(`\n${passed ? 'passed' : 'FAILED'}: ${what}\n`);
  return passed;
}

function restartTable(figures: RedisRestartFigures): string {
  return figuresTable([
    ['deliveries acknowledged (2xx, redeliveries included)', figures.acknowledged],
    ['deliveries refused with 503 while Redis was away', figures.refused],
    ['other answers, or none within 10 s', figures.otherAnswers],
    [
      'refused ones redelivered afterwards / acknowledged',
      `${figures.redelivered} / ${figures.redeliveredAcknowledged}`,
    ],
    ['jobs completed', figures.completed],
    ['jobs dead-lettered', figures.deadLettered],
    ['jobs lost', figures.lost],
    ['lost: acknowledged at most this long before the kill', seconds(figures.lostAckedBeforeDownMs)],
    ['duplicate comments', figures.duplicateComments],
    ['app processes that exited', figures.appExits],
    ['Redis away', seconds(figures.downMs)],
    ['Redis back → intake acknowledging again', seconds(figures.intakeBackMs)],
    ['Redis back → every earlier job finished (backlog drained)', seconds(figures.recoveryMs)],
  ]);
}

async function restartScenario(variant: (typeof restarts)[number]): Promise<boolean> {
  const { signal, appendfsync } = variant;
  write(
    `\n## 2. Redis restart under load (${signal}, appendfsync ${appendfsync}): ${restartSize.deliveries} deliveries at ${restartSize.deliveriesPerSec}/s, ${restartSize.workers} workers, Redis down ${restartSize.downAfterMs / 1000} s in for ${restartSize.downForMs / 1000} s\n\n`,
  );
  const figures = await runRedisRestart({ ...restartSize, ...variant });
  write(`${restartTable(figures)}\n`);
  const answered =
    figures.refused > 0 &&
    figures.otherAnswers === 0 &&
    figures.redeliveredAcknowledged === figures.redelivered &&
    figures.appExits === 0 &&
    figures.duplicateComments === 0;
  if (signal === 'SIGKILL' && appendfsync === 'everysec') {
    const withinWindow = (figures.lostAckedBeforeDownMs ?? 0) <= everysecLossWindowMs;
    return verdict(
      answered && withinWindow,
      `503 while away, apps reconnected, no comment twice; lost only what was acknowledged in the last ${everysecLossWindowMs / 1000} s before the crash`,
    );
  }
  return verdict(
    answered && figures.lost === 0,
    '503 while away, apps reconnected, every acknowledged delivery completed, no comment twice',
  );
}

async function slowRedisScenario(): Promise<boolean> {
  const size = { deliveries: 600, deliveriesPerSec: 20, workers: 3, pauseAfterMs: 5_000, pauseMs: 15_000 };
  write(
    `\n## 6. Slow Redis: ${size.deliveries} deliveries at ${size.deliveriesPerSec}/s, ${size.workers} workers, CLIENT PAUSE ${size.pauseMs / 1000} s ALL ${size.pauseAfterMs / 1000} s in\n\n`,
  );
  const figures = await runSlowRedis({ ...size, settleTimeoutMs: 180_000 });
  write(
    `${figuresTable([
      ['deliveries acknowledged (2xx, redeliveries included)', figures.acknowledged],
      ['deliveries refused with 503', figures.refused],
      ['other answers, or none within 10 s', figures.otherAnswers],
      ['slowest answer', seconds(figures.maxLatencyMs)],
      [`answers slower than ${intakeAnswerBoundMs / 1000} s`, figures.overBound],
      [
        'sent after the pause / acknowledged',
        `${figures.sentAfterPause} / ${figures.acknowledgedAfterPause}`,
      ],
      [
        'refused ones redelivered afterwards / acknowledged',
        `${figures.redelivered} / ${figures.redeliveredAcknowledged}`,
      ],
      ['jobs completed', figures.completed],
      ['jobs dead-lettered', figures.deadLettered],
      ['jobs lost', figures.lost],
      ['duplicate comments', figures.duplicateComments],
      ['app processes that exited', figures.appExits],
    ])}\n`,
  );
  return verdict(
    figures.refused > 0 &&
      figures.overBound === 0 &&
      figures.otherAnswers === 0 &&
      figures.acknowledgedAfterPause === figures.sentAfterPause &&
      figures.redeliveredAcknowledged === figures.redelivered &&
      figures.lost === 0 &&
      figures.duplicateComments === 0,
    `every answer within ${intakeAnswerBoundMs / 1000} s (503 when not stored), every acknowledged delivery completed, no comment twice`,
  );
}

/** Runs scenarios 2 (each variant) and 6, each on a Redis of its own; true when all passed. */
export async function runRedisOutages(): Promise<boolean> {
  const results: boolean[] = [];
  for (const variant of restarts) results.push(await restartScenario(variant));
  results.push(await slowRedisScenario());
  return results.every(Boolean);
}
