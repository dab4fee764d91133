import { generateKeyPairSync } from 'node:crypto';
import {
  createInstallationOctokit,
  createIssueTools,
  GitHubError,
  InstallationTokens,
  MutationQueue,
  RedisToolResultStore,
} from '@runner/github';
import { type ChatRequest, LlmClient, LlmError } from '@runner/llm';
import type { Logger, RetryEvent, RetryPolicy } from '@runner/retry';
import {
  chatCompletion,
  type FakeGitHub,
  fakeGitHubRoutes,
  githubReply,
  type RedisHandle,
  reply,
  type Step,
  startFakeGitHub,
  startFakeUpstream,
  startRedis,
  uniquePrefix,
} from '@runner/testkit';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runAgent } from './run-agent.ts';
import { defaultSystemPrompt } from './system-prompt.ts';
import type { AgentTask } from './task-prompt.ts';

const route = 'POST /v1/chat/completions';
const issue = { owner: 'octo-org', repo: 'octo-repo', number: 1 };
const task: AgentTask = {
  repository: 'octo-org/octo-repo',
  issueNumber: 1,
  event: 'issues.opened',
  sender: 'octocat',
};

/** Milliseconds between retries, so the tests are quick; the real numbers are the `llm` policy. */
const llmPolicy: RetryPolicy = {
  maxRetries: 3,
  initialDelayMs: 10,
  maxDelayMs: 1_000,
  multiplier: 2,
  jitter: 'none',
  timeoutMs: 2_000,
};
/** As `githubTools` waits at most 30 s for a rate limit, with quick backoff. */
const toolPolicy: RetryPolicy = { ...llmPolicy, maxDelayMs: 30_000 };

const callTool = (name: string, args = '{}'): Step =>
  reply.json(200, chatCompletion(null, [{ name, arguments: args }]));
const getIssue = callTool('get_issue');
const commentBody = 'Thanks for the report, looking into it.';
const comment = callTool('comment_on_issue', JSON.stringify({ body: commentBody }));
const answer = reply.json(200, chatCompletion('I read the issue and replied to it.'));

const { privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});

let redisServer: RedisHandle;
let redis: Redis;
const running: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  redisServer = await startRedis();
  redis = new Redis(redisServer.url, { lazyConnect: true });
  await redis.connect();
});
afterAll(async () => {
  await redis.quit();
  await redisServer.stop();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

/** The fake LLM answering with `steps` in turn (the last one repeats), and the real client on it. */
async function fakeLlm(steps: Step[]) {
  const upstream = await startFakeUpstream({ [route]: steps });
  running.push(upstream);
  const llm = new LlmClient({
    baseUrl: `${upstream.url}/v1`,
    apiKey: 'sk-test-secret-key',
    model: 'glm-4.6',
    policy: llmPolicy,
    minIntervalMs: 0,
  });
  return { upstream, llm };
}

async function fakeGitHub() {
  const github = await startFakeGitHub();
  running.push(github);
  const botComments = () =>
    github.comments(issue.owner, issue.repo, issue.number).filter((c) => c.user.type === 'Bot');
  return { github, botComments };
}

/** The real tools of one job; the same `jobId` and `resultsPrefix` make a rerun of that job. */
/** `earlierRunsSinceMs` as the worker passes it on a job's later runs: when its first run began. */
function issueTools(github: FakeGitHub, jobId: string, resultsPrefix: string, earlierRunsSinceMs?: number) {
  const tokens = new InstallationTokens({ appId: '123456', privateKey, baseUrl: github.url });
  const octokit = createInstallationOctokit({
    tokens,
    installationId: 7,
    mutations: new MutationQueue({ minIntervalMs: 0 }),
  });
  return createIssueTools({
    octokit,
    issue,
    jobId,
    results: new RedisToolResultStore(redis, { prefix: resultsPrefix }),
    policy: toolPolicy,
    ...(earlierRunsSinceMs === undefined ? {} : { earlierRunsSinceMs }),
  });
}

async function setup(steps: Step[]) {
  const { github, botComments } = await fakeGitHub();
  const { upstream, llm } = await fakeLlm(steps);
  const jobId = uniquePrefix('job');
  const tools = issueTools(github, jobId, uniquePrefix('tools'));
  return { github, botComments, upstream, llm, tools, jobId };
}

type SentMessage = Record<string, unknown> & { role: string; content?: unknown };

/** The conversation the fake LLM received in its `index`-th request. */
function sentMessages(upstream: { requests: readonly { json: unknown }[] }, index: number): SentMessage[] {
  return (upstream.requests[index]!.json as { messages: SentMessage[] }).messages;
}

function captureLogger() {
  const lines: Array<{ level: string; fields: Record<string, unknown>; message: string }> = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => {
    lines.push({ level, fields, message });
  };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

describe('runAgent', () => {
  it('reads the issue, comments once and answers, feeding each tool result back under its call id', async () => {
    const { upstream, llm, tools, botComments, jobId } = await setup([getIssue, comment, answer]);
    const { logger, lines } = captureLogger();

    const result = await runAgent({ llm, tools, task, logger });

    expect(result).toEqual({
      reason: 'answered',
      finalMessage: 'I read the issue and replied to it.',
      turns: 3,
      toolCalls: [
        { name: 'get_issue', callIndex: 0, ok: true },
        { name: 'comment_on_issue', callIndex: 1, ok: true },
      ],
      usage: { promptTokens: 36, completionTokens: 15, totalTokens: 51 },
    });
    expect(botComments()).toHaveLength(1);
    expect(botComments()[0]!.body).toContain(commentBody);
    // The call index counts across turns: the comment was the run's second tool call.
    expect(botComments()[0]!.body).toContain(`runner:idempotency-key=${jobId}:1:comment_on_issue`);

    expect(upstream.requests).toHaveLength(3);
    const first = upstream.requests[0]!.json as { messages: SentMessage[]; tools: unknown[] };
    expect(first.messages).toEqual([
      { role: 'system', content: defaultSystemPrompt },
      { role: 'user', content: 'Issue #1 in octo-org/octo-repo was just opened by octocat.' },
    ]);
    expect(first.tools).toMatchObject(
      ['get_issue', 'comment_on_issue', 'add_labels'].map((name) => ({
        type: 'function',
        function: { name },
      })),
    );

    const second = sentMessages(upstream, 1);
    expect(second).toHaveLength(4);
    expect(second[2]).toEqual({
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'get_issue', arguments: '{}' } }],
    });
    expect(second[3]).toMatchObject({ role: 'tool', tool_call_id: 'call_0' });
    expect(JSON.parse(String(second[3]!.content))).toMatchObject({ title: 'Crash on start', number: 1 });

    const third = sentMessages(upstream, 2);
    expect(third).toHaveLength(6);
    expect(third.slice(0, 4)).toEqual(second);
    expect(third[5]).toMatchObject({ role: 'tool', tool_call_id: 'call_0' });
    expect(JSON.parse(String(third[5]!.content))).toEqual({
      commentId: String(botComments()[0]!.id),
      url: botComments()[0]!.html_url,
    });

    const turns = lines.filter((line) => line.fields.layer === 'agent');
    expect(turns.map(({ level, fields }) => ({ level, fields }))).toEqual([
      { level: 'info', fields: { layer: 'agent', turn: 1, toolCalls: ['get_issue'] } },
      { level: 'info', fields: { layer: 'agent', turn: 2, toolCalls: ['comment_on_issue'] } },
      { level: 'info', fields: { layer: 'agent', turn: 3, toolCalls: [] } },
    ]);
    const logged = JSON.stringify(lines);
    expect(logged).not.toContain('Crash on start');
    expect(logged).not.toContain(commentBody);
    expect(logged).not.toContain('sk-test-secret-key');
  });

  it('answers an unknown tool and arguments that are not JSON with tool errors, and goes on', async () => {
    const confused = reply.json(
      200,
      chatCompletion(null, [
        { name: 'delete_repository', arguments: '{}' },
        { name: 'comment_on_issue', arguments: 'body: hello' },
      ]),
    );
    const { github, upstream, llm, tools, botComments } = await setup([confused, getIssue, answer]);

    const result = await runAgent({ llm, tools, task });

    expect(result).toMatchObject({ reason: 'answered', turns: 3 });
    expect(result.toolCalls).toEqual([
      { name: 'delete_repository', callIndex: 0, ok: false },
      { name: 'comment_on_issue', callIndex: 1, ok: false },
      { name: 'get_issue', callIndex: 2, ok: true },
    ]);
    const [unknown, notJson] = sentMessages(upstream, 1).slice(3);
    expect(unknown).toEqual({
      role: 'tool',
      tool_call_id: 'call_0',
      content: JSON.stringify({
        error: 'unknown tool delete_repository; available: get_issue, comment_on_issue, add_labels',
      }),
    });
    expect(notJson).toMatchObject({ role: 'tool', tool_call_id: 'call_1' });
    expect(JSON.parse(String(notJson!.content))).toEqual({
      error: "comment_on_issue: arguments are not valid JSON; send an object matching the tool's schema",
    });
    expect(botComments()).toHaveLength(0);
    expect(github.requestsTo(fakeGitHubRoutes.createComment)).toHaveLength(0);
  });

  it('stops after maxTurns when the model never stops calling tools, without an error', async () => {
    const { upstream, llm, tools } = await setup([getIssue]);
    const { logger, lines } = captureLogger();

    const result = await runAgent({ llm, tools, task, maxTurns: 3, logger });

    expect(result).toMatchObject({ reason: 'max_turns', finalMessage: null, turns: 3 });
    expect(result.toolCalls.map((call) => call.callIndex)).toEqual([0, 1, 2]);
    expect(result.usage.totalTokens).toBe(51);
    expect(upstream.requests).toHaveLength(3);
    expect(lines.filter((line) => line.level === 'warn')).toEqual([
      {
        level: 'warn',
        fields: { layer: 'agent', turn: 3, maxTurns: 3, toolCalls: 3 },
        message: 'Agent stopped after 3 turns without a final answer',
      },
    ]);
  });

  it('comments once when the same run is done twice for one job (a rerun)', async () => {
    const { github, botComments } = await fakeGitHub();
    const jobId = uniquePrefix('job');
    const resultsPrefix = uniquePrefix('tools');
    const firstRunAtMs = Date.now();

    for (let run = 1; run <= 2; run++) {
      const { llm } = await fakeLlm([getIssue, comment, answer]);
      const tools = issueTools(github, jobId, resultsPrefix, run > 1 ? firstRunAtMs : undefined);
      await expect(runAgent({ llm, tools, task })).resolves.toMatchObject({ reason: 'answered', turns: 3 });
    }
    expect(botComments()).toHaveLength(1);
    expect(github.requestsTo(fakeGitHubRoutes.createComment)).toHaveLength(1);
  });

  it('comments once when the job failed after commenting and runs again', async () => {
    const { github, botComments } = await fakeGitHub();
    const jobId = uniquePrefix('job');
    const resultsPrefix = uniquePrefix('tools');
    const firstRunAtMs = Date.now();

    const crashing = await fakeLlm([getIssue, comment, reply.status(400)]);
    await expect(
      runAgent({ llm: crashing.llm, tools: issueTools(github, jobId, resultsPrefix), task }),
    ).rejects.toBeInstanceOf(LlmError);
    expect(botComments()).toHaveLength(1);

    const rerun = await fakeLlm([getIssue, comment, answer]);
    const result = await runAgent({
      llm: rerun.llm,
      tools: issueTools(github, jobId, resultsPrefix, firstRunAtMs),
      task,
    });

    expect(result.reason).toBe('answered');
    expect(botComments()).toHaveLength(1);
    expect(github.requestsTo(fakeGitHubRoutes.createComment)).toHaveLength(1);
    // The rerun's model still sees the comment as made: the recorded result.
    expect(JSON.parse(String(sentMessages(rerun.upstream, 2)[5]!.content))).toEqual({
      commentId: String(botComments()[0]!.id),
      url: botComments()[0]!.html_url,
    });
  });

  it('rejects with the GitHubError of a tool that only time can fix, for the job level', async () => {
    const { github, upstream, llm, tools, botComments } = await setup([getIssue, comment, answer]);
    github.injectFaults(fakeGitHubRoutes.createComment, [
      githubReply.primaryRateLimit({ resetInSeconds: 600 }),
    ]);
    const before = Date.now();

    const error = (await runAgent({ llm, tools, task }).catch((e: unknown) => e)) as GitHubError;

    expect(error).toBeInstanceOf(GitHubError);
    expect(error).toMatchObject({
      code: 'retry_after_too_long',
      retryable: true,
      layer: 'tool',
      status: 403,
    });
    expect(error.retryAt!.getTime()).toBeGreaterThanOrEqual(before + 598_000);
    expect(upstream.requests).toHaveLength(2);
    expect(botComments()).toHaveLength(0);
  });

  it('rejects with the LlmError once layer 1 gives up', async () => {
    const { upstream, llm, tools } = await setup([getIssue, reply.status(503)]);

    const error = (await runAgent({ llm, tools, task }).catch((e: unknown) => e)) as LlmError;

    expect(error).toBeInstanceOf(LlmError);
    expect(error).toMatchObject({ code: 'retries_exhausted', retryable: true, status: 503, attempts: 4 });
    expect(upstream.requests).toHaveLength(1 + 4);
  });

  it('reports the LLM calls’ retries to the job’s onRetry', async () => {
    const { llm, tools } = await setup([getIssue, reply.status(503), answer]);
    const events: RetryEvent[] = [];

    await runAgent({ llm, tools, task, onRetry: (event) => events.push(event) });

    expect(events).toEqual([expect.objectContaining({ attempt: 2, status: 503, target: 'llm' })]);
  });

  it('hands each LLM call what is left of the job deadline', async () => {
    const { llm, tools } = await setup([getIssue, answer]);
    const deadlines: Array<number | undefined> = [];
    const recording = {
      chat: (request: ChatRequest) => {
        deadlines.push(request.deadlineMs);
        return llm.chat(request);
      },
    };
    const deadlineAtMs = Date.now() + 60_000;

    await runAgent({ llm: recording, tools, task, deadlineAtMs });

    expect(deadlines).toHaveLength(2);
    for (const deadlineMs of deadlines) {
      expect(deadlineMs).toBeGreaterThan(50_000);
      expect(deadlineMs).toBeLessThanOrEqual(60_000);
    }
    expect(deadlines[1]).toBeLessThanOrEqual(deadlines[0]!);
  });

  it('makes no request when the job deadline has passed: the LLM client fails with deadline_exceeded', async () => {
    const { github, upstream, llm, tools } = await setup([getIssue, answer]);

    const error = (await runAgent({ llm, tools, task, deadlineAtMs: Date.now() - 1_000 }).catch(
      (e: unknown) => e,
    )) as LlmError;

    // A deadline of 0 ms left: retryWithBackoff gives up before the first attempt (attempts 0).
    expect(error).toBeInstanceOf(LlmError);
    expect(error).toMatchObject({ code: 'deadline_exceeded', retryable: true, attempts: 0 });
    expect(upstream.requests).toHaveLength(0);
    expect(github.requests).toHaveLength(0);
  });

  it('stops with the signal’s reason when the job is cancelled', async () => {
    const { upstream, llm, tools } = await setup([getIssue, answer]);
    const controller = new AbortController();
    controller.abort(new Error('worker shutting down'));

    await expect(runAgent({ llm, tools, task, signal: controller.signal })).rejects.toThrow(
      'worker shutting down',
    );
    expect(upstream.requests).toHaveLength(0);
  });

  it('refuses a maxTurns below 1', async () => {
    const { llm, tools } = await setup([answer]);
    await expect(runAgent({ llm, tools, task, maxTurns: 0 })).rejects.toBeInstanceOf(RangeError);
  });
});
