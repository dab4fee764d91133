// Fault suite, scenario 4: every call to GitHub and to the LLM has a 20 % chance of a 429, a 5xx, a
// reset or a hang. Every job must end completed or dead-lettered with its reason, none stays active, and
// no comment is posted twice.
import { type Random, seededRandom } from '@runner/retry';
import {
  type FaultStep,
  fakeGitHubRoutes,
  type RedisHandle,
  reply,
  type Step,
  type StepFunction,
  triageModel,
} from '@runner/testkit';
import { spawnApp } from '../app-process.ts';
import { issue, startHarness } from '../harness.ts';
import { duplicateComments } from './duplicate-comments.ts';

export interface UpstreamChaosOptions {
  redis: RedisHandle;
  jobs: number;
  /** Share of calls that fail. */
  faultRate: number;
  workers: number;
  /** Bound on each job's end. In ms. */
  settleTimeoutMs: number;
  seed?: number;
}

export interface UpstreamChaosFigures {
  jobs: number;
  completed: number;
  deadLettered: number;
  /** Dead-lettered jobs without a reason ops can read. */
  deadLetteredWithoutReason: number;
  /** Jobs still waiting, delayed or active when the bound ran out. */
  unfinished: number;
  duplicateComments: number;
  faultsInjected: number;
}

/** One of the four kinds of trouble, at random. A hang lasts past every attempt's timeout. */
function fault(random: Random): Step {
  const kinds: Step[] = [
    reply.rateLimited({ retryAfterSeconds: 1 }),
    reply.status(random() < 0.5 ? 503 : 502),
    reply.reset(),
    reply.hang({ ms: 5_000 }),
  ];
  return kinds[Math.floor(random() * kinds.length)] as Step;
}

export async function runUpstreamChaos(options: UpstreamChaosOptions): Promise<UpstreamChaosFigures> {
  const random = seededRandom(options.seed ?? 11);
  let faultsInjected = 0;
  const maybeFault = (): Step | undefined => {
    if (random() >= options.faultRate) return undefined;
    faultsInjected += 1;
    return fault(random);
  };
  const model = triageModel();
  const llm: StepFunction = (req) => maybeFault() ?? model(req);
  const numbers = Array.from({ length: options.jobs }, (_, i) => 2_000 + i);
  const h = await startHarness({
    redisUrl: options.redis.url,
    noWorker: true,
    llm,
    github: {
      issues: numbers.map((number) => ({
        owner: issue.owner,
        repo: issue.repo,
        number,
        title: `Bug ${number}`,
      })),
      // A comment's POST may also fail after GitHub stored it: the answer is what gets lost.
      randomFault: (route): FaultStep | undefined => {
        const step = maybeFault();
        // A 429 is GitHub refusing the request; the lost answers are a proxy's 5xx, resets and hangs.
        const answerLost = step !== undefined && (step as { status?: number }).status !== 429;
        if (answerLost && route === fakeGitHubRoutes.createComment && random() < 0.5)
          return { afterHandling: step };
        return step;
      },
    },
    env: {
      WORKER_CONCURRENCY: '4',
      // Hangs end on each layer's attempt timeout: 1.5 s here, so the scenario takes a minute, not ten.
      RETRY_LLM_TIMEOUT_MS: '1500',
      RETRY_GITHUB_TOKEN_TIMEOUT_MS: '1500',
      RETRY_GITHUB_TOOLS_TIMEOUT_MS: '1500',
      FLEET_CIRCUIT_COOLDOWN_MS: '2000',
    },
  });
  const workers = Array.from({ length: options.workers }, () => spawnApp('worker', h.env));
  try {
    let installationId = 500;
    const ids = numbers.map((number) => `chaos-${number}`);
    await h.queue.addBulk(
      numbers.map((number, i) => ({
        name: 'issues.opened',
        data: { ...h.jobData(ids[i] as string), issueNumber: number, installationId: installationId++ },
        opts: { jobId: ids[i] as string },
      })),
    );
    const outcomes = await Promise.all(ids.map((id) => h.waitForJob(id, options.settleTimeoutMs)));
    const states = await Promise.all(outcomes.map(({ job }) => job.getState()));
    const failed = outcomes.filter((_, i) => states[i] === 'failed');
    return {
      jobs: ids.length,
      completed: states.filter((state) => state === 'completed').length,
      deadLettered: failed.length,
      deadLetteredWithoutReason: failed.filter(({ job }) => !job.failedReason).length,
      unfinished: states.filter((state) => state !== 'completed' && state !== 'failed').length,
      duplicateComments: duplicateComments(h.github, numbers),
      faultsInjected,
    };
  } finally {
    await Promise.all(workers.map((worker) => worker.kill()));
    await h.close();
  }
}
