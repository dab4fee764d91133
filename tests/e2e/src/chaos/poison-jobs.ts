// Fault suite, scenario 7: poison jobs among good ones. Invalid job data, a model that loops on tool
// calls, a model whose tool calls are garbage: each fails (or finishes) with a clear reason after
// bounded work, and the good jobs around them are unaffected.
import {
  chatCompletion,
  fakeAgentModel,
  type RedisHandle,
  reply,
  type StepFunction,
  triageModel,
} from '@runner/testkit';
import { spawnApp } from '../app-process.ts';
import { issue, llmRoute, startHarness } from '../harness.ts';

/** Which issue each kind of job is about: the fake model tells them apart by the issue in its prompt. */
const issues = { good: 1, looping: 2, garbage: 3 } as const;

/** The model per job: good jobs triage, issue 2's model calls tools forever, issue 3's sends garbage. */
function modelFor(): StepFunction {
  const good = triageModel();
  const looping = fakeAgentModel([{ tool: 'get_issue', arguments: {} }]);
  // Arguments that are not JSON, then a tool that does not exist, then an answer.
  const garbage: StepFunction = (req) => {
    const turn = messages(req).filter((m) => m.role === 'tool').length;
    if (turn === 0)
      return reply.json(200, chatCompletion(null, [{ name: 'comment_on_issue', arguments: '{"body": ' }]));
    if (turn === 1)
      return reply.json(200, chatCompletion(null, [{ name: 'delete_repository', arguments: '{}' }]));
    return reply.json(200, chatCompletion('I could not do it.'));
  };
  return (req) => {
    const prompt = messages(req).find((m) => m.role === 'user')?.content ?? '';
    if (prompt.includes(`#${issues.looping} `)) return looping(req);
    if (prompt.includes(`#${issues.garbage} `)) return garbage(req);
    return good(req);
  };
}

function messages(req: { json: unknown }): Array<{ role?: string; content?: string }> {
  return (req.json as { messages?: Array<{ role?: string; content?: string }> } | undefined)?.messages ?? [];
}

export interface PoisonJobsFigures {
  goodJobs: number;
  goodCompleted: number;
  /** Each poison job's end: its state and the reason ops see. */
  poison: Record<'invalid data' | 'looping model' | 'garbage tool calls', { state: string; reason: string }>;
  /** LLM calls the looping job made: bounded by AGENT_MAX_TURNS. */
  loopingLlmCalls: number;
}

export interface PoisonJobsOptions {
  redis: RedisHandle;
  goodJobs: number;
  /** Bound on each job's end. In ms. */
  settleTimeoutMs: number;
}

export async function runPoisonJobs(options: PoisonJobsOptions): Promise<PoisonJobsFigures> {
  const maxTurns = 4;
  const h = await startHarness({
    redisUrl: options.redis.url,
    noWorker: true,
    llm: modelFor(),
    github: {
      issues: Object.values(issues).map((number) => ({
        owner: issue.owner,
        repo: issue.repo,
        number,
        title: `Issue ${number}`,
      })),
    },
    env: { AGENT_MAX_TURNS: String(maxTurns), WORKER_CONCURRENCY: '4' },
  });
  const worker = spawnApp('worker', h.env);
  try {
    // An installation each, so that no comment waits behind another's 1 s gap between writes.
    let installationId = 100;
    const job = (id: string, number: number) => ({
      ...h.jobData(id),
      issueNumber: number,
      installationId: installationId++,
    });
    const good = Array.from({ length: options.goodJobs }, (_, i) => `good-${i}`);
    const half = Math.floor(good.length / 2);
    // Poison in the middle of the good ones, so that good jobs run before, beside and after it.
    await h.queue.addBulk([
      ...good
        .slice(0, half)
        .map((id) => ({ name: 'issues.opened', data: job(id, issues.good), opts: { jobId: id } })),
      {
        name: 'issues.opened',
        data: { deliveryId: 'poison-data', event: 'issues.opened' } as never,
        opts: { jobId: 'poison-data' },
      },
      { name: 'issues.opened', data: job('poison-loop', issues.looping), opts: { jobId: 'poison-loop' } },
      {
        name: 'issues.opened',
        data: job('poison-garbage', issues.garbage),
        opts: { jobId: 'poison-garbage' },
      },
      ...good
        .slice(half)
        .map((id) => ({ name: 'issues.opened', data: job(id, issues.good), opts: { jobId: id } })),
    ]);
    const ids = [...good, 'poison-data', 'poison-loop', 'poison-garbage'];
    const outcomes = new Map(
      await Promise.all(
        ids.map(async (id) => [id, await h.waitForJob(id, options.settleTimeoutMs)] as const),
      ),
    );
    const end = async (id: string) => {
      const outcome = outcomes.get(id);
      const state = (await outcome?.job.getState()) ?? 'missing';
      return { state, reason: outcome?.job.failedReason ?? (state === 'completed' ? 'completed' : 'none') };
    };
    const loopingLlmCalls = h.llm.requestsTo(llmRoute).filter((req) =>
      messages(req)
        .find((m) => m.role === 'user')
        ?.content?.includes(`#${issues.looping} `),
    ).length;
    return {
      goodJobs: good.length,
      goodCompleted: good.filter((id) => outcomes.get(id)?.completed).length,
      poison: {
        'invalid data': await end('poison-data'),
        'looping model': await end('poison-loop'),
        'garbage tool calls': await end('poison-garbage'),
      },
      loopingLlmCalls,
    };
  } finally {
    await worker.kill();
    await h.close();
  }
}
