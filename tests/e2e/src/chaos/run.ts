// `npm run chaos`: the fault suite at full size, printing its figures. The short form of each scenario
// runs in `npm test` (src/chaos.test.ts).
import { startRedis } from '@runner/testkit';
import { figuresTable, seconds } from './figures-table.ts';
import { runPoisonJobs } from './poison-jobs.ts';
import { runRedisOutages } from './redis-outages-report.ts';
import { runUpstreamChaos } from './upstream-chaos.ts';
import { runWorkerCrashes, type WorkerCrashesFigures } from './worker-crashes.ts';

const size = { deliveries: 1_000, deliveriesPerSec: 20, workers: 3, killEveryMs: 2_000 } as const;

function table(figures: WorkerCrashesFigures): string {
  return figuresTable([
    ['deliveries acknowledged (202)', figures.acknowledged],
    ['deliveries refused the first time, by status', JSON.stringify(figures.refused)],
    ['refused ones answered 2xx when redelivered', figures.redeliveredAcknowledged],
    ['jobs completed', figures.completed],
    ['jobs dead-lettered', figures.deadLettered],
    ['jobs lost', figures.lost],
    ['duplicate comments', figures.duplicateComments],
    ['workers killed (SIGKILL)', figures.kills],
    ['from the last kill to the last job finished (backlog drained)', seconds(figures.recoveryMs)],
  ]);
}

const redis = await startRedis({ forcePrivate: true, args: ['--appendonly', 'yes'] });
try {
  process.stdout.write(
    `## 1. Worker crashes: ${size.deliveries} deliveries at ${size.deliveriesPerSec}/s, ${size.workers} worker processes, one killed with SIGKILL and replaced every ${size.killEveryMs / 1000} s\n\n`,
  );
  const figures = await runWorkerCrashes({ redis, ...size, settleTimeoutMs: 180_000 });
  process.stdout.write(`${table(figures)}\n`);
  const passed =
    figures.lost === 0 && figures.duplicateComments === 0 && figures.completed === figures.acknowledged;
  process.stdout.write(
    `\n${passed ? 'passed' : 'FAILED'}: every acknowledged delivery completed, none lost, no comment twice\n`,
  );

  process.stdout.write(
    '\n## 7. Poison jobs among 100 good ones\n\n| job | ended | reason |\n| --- | --- | --- |\n',
  );
  const poison = await runPoisonJobs({ redis, goodJobs: 100, settleTimeoutMs: 120_000 });
  for (const [name, end] of Object.entries(poison.poison)) {
    process.stdout.write(`| ${name} | ${end.state} | ${end.reason} |\n`);
  }
  process.stdout.write(
    `| good jobs | ${poison.goodCompleted} of ${poison.goodJobs} completed | |\n\nThe looping model made ${poison.loopingLlmCalls} LLM calls (AGENT_MAX_TURNS 4).\n`,
  );
  const poisonPassed =
    poison.goodCompleted === poison.goodJobs &&
    poison.poison['invalid data'].state === 'failed' &&
    poison.poison['looping model'].state === 'failed';
  process.stdout.write(
    `\n${poisonPassed ? 'passed' : 'FAILED'}: poison jobs end with a reason, good ones complete\n`,
  );

  process.stdout.write(
    '\n## 4. Upstream chaos: 200 jobs, 3 workers, 20 % of GitHub and LLM calls fail (429, 5xx, reset, hang)\n\n',
  );
  const chaos = await runUpstreamChaos({
    redis,
    jobs: 200,
    faultRate: 0.2,
    workers: 3,
    settleTimeoutMs: 240_000,
  });
  process.stdout.write(
    [
      '| faults injected | jobs | completed | dead-lettered (all with a reason) | unfinished | duplicate comments |',
      '| --- | --- | --- | --- | --- | --- |',
      `| ${chaos.faultsInjected} | ${chaos.jobs} | ${chaos.completed} | ${chaos.deadLettered} (${chaos.deadLettered - chaos.deadLetteredWithoutReason}) | ${chaos.unfinished} | ${chaos.duplicateComments} |`,
    ].join('\n'),
  );
  const chaosPassed =
    chaos.unfinished === 0 && chaos.deadLetteredWithoutReason === 0 && chaos.duplicateComments === 0;
  process.stdout.write(
    `\n\n${chaosPassed ? 'passed' : 'FAILED'}: every job ended with a reason, no comment twice\n`,
  );
  const outagesPassed = await runRedisOutages();
  process.exitCode = passed && poisonPassed && chaosPassed && outagesPassed ? 0 : 1;
} finally {
  await redis.stop();
}
