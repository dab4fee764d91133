import type { RetryPolicy } from '@runner/retry';
import {
  type FakeGitHub,
  fakeGitHubRoutes,
  githubReply,
  type RedisHandle,
  reply,
  startFakeGitHub,
  startRedis,
  uniquePrefix,
} from '@runner/testkit';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GitHubError } from '../errors.ts';
import { createInstallationOctokit } from '../installation-octokit.ts';
import { InstallationTokens } from '../installation-tokens.ts';
import { MutationQueue } from '../mutation-queue.ts';
import { appId, captureLogger, testKeys } from '../test-helpers.ts';
import { RedisToolResultStore, type ToolResultStore } from '../tool-result-store.ts';
import { createIssueTools } from './create-issue-tools.ts';
import type { IssueTool, IssueToolContext } from './tool.ts';

const issue = { owner: 'octo-org', repo: 'octo-repo', number: 1 };
const { createComment, listComments, getIssue, addLabels } = fakeGitHubRoutes;
/** Milliseconds between retries so that most tests are quick; the real numbers are the githubTools policy. */
const fast: RetryPolicy = {
  maxRetries: 3,
  initialDelayMs: 10,
  maxDelayMs: 30_000,
  multiplier: 2,
  jitter: 'none',
  timeoutMs: 2_000,
};

let redisServer: RedisHandle;
let redis: Redis;
let github: FakeGitHub | undefined;

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
  await github?.close();
  github = undefined;
});

async function setup(
  overrides: Partial<IssueToolContext> = {},
  options: { mutationGapMs?: number; jobId?: string } = {},
) {
  github = await startFakeGitHub();
  const tokens = new InstallationTokens({ appId, privateKey: testKeys().privateKey, baseUrl: github.url });
  const { logger, lines } = captureLogger();
  const octokit = createInstallationOctokit({
    tokens,
    installationId: 7,
    mutations: new MutationQueue({ minIntervalMs: options.mutationGapMs ?? 0 }),
  });
  const context: IssueToolContext = {
    octokit,
    issue,
    jobId: options.jobId ?? uniquePrefix('job'),
    results: new RedisToolResultStore(redis, { prefix: uniquePrefix('tools') }),
    policy: fast,
    logger,
    ...overrides,
  };
  const tools = createIssueTools(context);
  const tool = (name: string): IssueTool => toolNamed(tools, name);
  const comments = () =>
    github!.comments(issue.owner, issue.repo, issue.number).filter((c) => c.user.type === 'Bot');
  return { github, context, tool, comments, lines };
}

function toolNamed(tools: IssueTool[], name: string): IssueTool {
  return tools.find((t) => t.definition.function.name === name)!;
}

describe('issue tools', () => {
  it('describe themselves as OpenAI function tools with JSON Schema parameters', async () => {
    const { tool } = await setup();
    expect(tool('comment_on_issue').definition).toMatchObject({
      type: 'function',
      function: {
        name: 'comment_on_issue',
        parameters: { type: 'object', properties: { body: { type: 'string' } }, required: ['body'] },
      },
    });
    expect(tool('get_issue').mutates).toBe(false);
    expect(tool('add_labels').mutates).toBe(true);
  });

  it('get_issue reads the job’s issue and its comments', async () => {
    const { tool } = await setup();
    const result = JSON.parse(await tool('get_issue').run('{}', 0)) as Record<string, unknown>;
    expect(result).toMatchObject({
      number: 1,
      title: 'Crash on start',
      state: 'open',
      labels: ['bug'],
      author: 'octocat',
    });
    expect((result.comments as unknown[]).length).toBeGreaterThanOrEqual(1);
  });

  it('posts a comment once and records it, so a rerun of the job does not post again', async () => {
    const { github, tool, comments, context } = await setup({}, { jobId: 'job-rerun' });
    const first = await tool('comment_on_issue').run(JSON.stringify({ body: 'Looking into it.' }), 3);
    const rerun = await toolNamed(
      createIssueTools({ ...context, earlierRunsSinceMs: Date.now() - 60_000 }),
      'comment_on_issue',
    ).run(JSON.stringify({ body: 'Looking into it.' }), 3);
    expect(rerun).toBe(first);
    expect(comments()).toHaveLength(1);
    expect(github.requestsTo(createComment)).toHaveLength(1);
    // The record answered the rerun: it did not need to look for the comment's marker.
    expect(github.requestsTo(listComments)).toHaveLength(0);
    expect(comments()[0]!.body).toContain('<!-- runner:idempotency-key=job-rerun:3:comment_on_issue -->');
  });

  it('looks up no record on a job’s first run, and still records what it did for a rerun', async () => {
    const store = new RedisToolResultStore(redis, { prefix: uniquePrefix('tools') });
    const lookedUp: string[] = [];
    const results: ToolResultStore = {
      get: (key) => {
        lookedUp.push(key);
        return store.get(key);
      },
      set: (key, result) => store.set(key, result),
    };
    const { github, tool, context } = await setup({ results }, { jobId: 'job-first' });
    const comment = await tool('comment_on_issue').run(JSON.stringify({ body: 'On it.' }), 0);
    const labels = await tool('add_labels').run(JSON.stringify({ labels: ['triage'] }), 1);
    expect(lookedUp).toEqual([]);
    expect(await store.get('job-first:0:comment_on_issue')).toBe(comment);
    expect(await store.get('job-first:1:add_labels')).toBe(labels);

    const rerun = createIssueTools({ ...context, earlierRunsSinceMs: Date.now() - 60_000 });
    expect(await toolNamed(rerun, 'add_labels').run(JSON.stringify({ labels: ['triage'] }), 1)).toBe(labels);
    expect(lookedUp).toEqual(['job-first:1:add_labels']);
    expect(github.requestsTo(addLabels)).toHaveLength(1);
  });

  it('does not wait for Redis to store the record, and the record lands', async () => {
    const prefix = uniquePrefix('tools');
    const store = new RedisToolResultStore(redis, { prefix });
    const { tool } = await setup({ results: store }, { jobId: 'job-unawaited' });
    const admin = new Redis(redisServer.url);
    // Redis holds every write (the record's SET) until unpaused, 8 s at most; reads go on.
    await admin.client('PAUSE', 8_000, 'WRITE');
    try {
      const result = await tool('comment_on_issue').run(JSON.stringify({ body: 'Done.' }), 0);
      expect(await admin.exists(`${prefix}:tool-result:job-unawaited:0:comment_on_issue`)).toBe(0);
      await admin.client('UNPAUSE');
      await expect.poll(() => store.get('job-unawaited:0:comment_on_issue')).toBe(result);
    } finally {
      await admin.client('UNPAUSE');
      admin.disconnect();
    }
  });

  it('logs a record Redis refused, and still returns what the call did', async () => {
    const offline = new Redis(redisServer.url, { lazyConnect: true, enableOfflineQueue: false });
    const results = new RedisToolResultStore(offline, { prefix: uniquePrefix('tools') });
    const { tool, comments, lines } = await setup({ results });
    const result = JSON.parse(await tool('comment_on_issue').run(JSON.stringify({ body: 'Done.' }), 0)) as {
      commentId: string;
    };
    expect(result.commentId).toBe(String(comments()[0]!.id));
    await expect
      .poll(() => lines.find((l) => l.level === 'warn')?.message)
      .toBe('Could not record the result of comment_on_issue; a rerun of the job will look for it on GitHub');
  });

  it('posts one comment when an earlier run posted it and died before recording it', async () => {
    const { github, tool, comments, context } = await setup({}, { jobId: 'job-crashed' });
    await tool('comment_on_issue').run(JSON.stringify({ body: 'Looking into it.' }), 2);
    // The rerun: the record is gone (the worker died between the POST and the SET), the comment is not.
    const rerun = toolNamed(
      createIssueTools({
        ...context,
        results: new RedisToolResultStore(redis, { prefix: uniquePrefix('tools') }),
        earlierRunsSinceMs: Date.now() - 60_000,
      }),
      'comment_on_issue',
    );
    const result = JSON.parse(await rerun.run(JSON.stringify({ body: 'Looking into it.' }), 2)) as {
      commentId: string;
    };

    expect(comments()).toHaveLength(1);
    expect(result.commentId).toBe(String(comments()[0]!.id));
    expect(github.requestsTo(createComment)).toHaveLength(1);
  });

  it('posts one comment when GitHub stored it but a proxy answered 502', async () => {
    const { github, tool, comments, lines } = await setup();
    github.injectFaults(createComment, [{ afterHandling: reply.status(502) }]);
    const result = JSON.parse(
      await tool('comment_on_issue').run(JSON.stringify({ body: 'Fixed in #2.' }), 0),
    ) as {
      commentId: string;
    };
    expect(comments()).toHaveLength(1);
    expect(result.commentId).toBe(String(comments()[0]!.id));
    expect(github.requestsTo(createComment)).toHaveLength(1);
    expect(github.requestsTo(listComments).length).toBeGreaterThanOrEqual(1);
    expect(
      lines.some((l) => l.message === 'Found the comment an earlier attempt posted; not posting it again'),
    ).toBe(true);
  });

  it('posts one comment when the 201 is cut off mid-body', async () => {
    const { github, tool, comments } = await setup();
    github.injectFaults(createComment, [
      { afterHandling: reply.resetMidBody({ status: 201, body: { id: 1, body: 'x'.repeat(400) } }) },
    ]);
    await tool('comment_on_issue').run(JSON.stringify({ body: 'Thanks!' }), 0);
    expect(comments()).toHaveLength(1);
  });

  it('posts one comment when the answer never comes and the attempt times out', async () => {
    const { github, tool, comments } = await setup({ policy: { ...fast, timeoutMs: 300 } });
    github.injectFaults(createComment, [{ afterHandling: reply.hang() }]);
    await tool('comment_on_issue').run(JSON.stringify({ body: 'Thanks!' }), 0);
    expect(comments()).toHaveLength(1);
  });

  it('retries a comment refused with 502 before GitHub acted, and then posts it', async () => {
    const { github, tool, comments } = await setup();
    github.injectFaults(createComment, [reply.status(502)]);
    await tool('comment_on_issue').run(JSON.stringify({ body: 'Second try.' }), 0);
    expect(comments()).toHaveLength(1);
    expect(github.requestsTo(createComment)).toHaveLength(2);
  });

  it('waits for the primary rate limit to reset before retrying, and logs it in the design notes’ form', async () => {
    const { github, tool, lines } = await setup({ policy: { ...fast, maxDelayMs: 30_000 } });
    github.injectFaults(createComment, [githubReply.primaryRateLimit({ resetInSeconds: 2 })]);
    await tool('comment_on_issue').run(JSON.stringify({ body: 'After the reset.' }), 0);
    const [limited, retried] = github.requestsTo(createComment);
    // The fake answered with x-ratelimit-reset = the whole second at or after (its clock + 2 s), and its
    // clock read no earlier than the request's arrival: the retry must not come before that second.
    const resetAtMs = Math.ceil((limited!.at.getTime() + 2_000) / 1000) * 1000;
    expect(retried!.at.getTime()).toBeGreaterThanOrEqual(resetAtMs);
    const retryLine = lines.find((l) => l.fields.layer === 'tool');
    expect(retryLine?.message).toMatch(
      /^\[Attempt 1\/4\] GitHub API rate limited\. Retrying in \d\.\ds\.\.\.$/,
    );
    expect(retryLine?.fields).toMatchObject({
      layer: 'tool',
      target: 'comment_on_issue',
      attempt: 2,
      status: 403,
    });
  });

  it('ends the call at once with the reset time when the primary limit resets in 10 minutes', async () => {
    const { github, tool } = await setup();
    github.injectFaults(createComment, [githubReply.primaryRateLimit({ resetInSeconds: 600 })]);
    const before = Date.now();
    const error = (await tool('comment_on_issue')
      .run(JSON.stringify({ body: 'x' }), 0)
      .catch((e: unknown) => e)) as GitHubError;
    expect(error).toBeInstanceOf(GitHubError);
    expect(error).toMatchObject({
      code: 'retry_after_too_long',
      retryable: true,
      layer: 'tool',
      status: 403,
    });
    expect(error.retryAt!.getTime()).toBeGreaterThanOrEqual(before + 598_000);
    expect(error.retryAt!.getTime()).toBeLessThanOrEqual(before + 601_000);
    expect(github.requestsTo(createComment)).toHaveLength(1);
  });

  it('waits retry-after on a secondary rate limit', async () => {
    const { github, tool } = await setup();
    github.injectFaults(createComment, [githubReply.secondaryRateLimit({ retryAfterSeconds: 1 })]);
    await tool('comment_on_issue').run(JSON.stringify({ body: 'x' }), 0);
    const [first, second] = github.requestsTo(createComment);
    expect(second!.receivedAtMs - first!.receivedAtMs).toBeGreaterThanOrEqual(1_000);
  });

  it('does not retry a plain 403 and tells the model why', async () => {
    const { github, tool } = await setup();
    github.injectFaults(addLabels, [githubReply.forbidden()]);
    const result = JSON.parse(await tool('add_labels').run(JSON.stringify({ labels: ['triage'] }), 0)) as {
      error: string;
    };
    expect(result.error).toMatch(/HTTP 403/);
    expect(github.requestsTo(addLabels)).toHaveLength(1);
  });

  it('tells the model about a 404 instead of throwing', async () => {
    const { github, tool } = await setup({ issue: { ...issue, number: 999 } });
    const result = JSON.parse(await tool('get_issue').run('{}', 0)) as { error: string };
    expect(result.error).toMatch(/HTTP 404/);
    expect(github.requestsTo(getIssue)).toHaveLength(1);
  });

  it('sends two mutating calls for one installation at least 1 s apart, and does not slow reads', async () => {
    const { github, tool } = await setup({}, { mutationGapMs: 1_000 });
    await Promise.all([
      tool('comment_on_issue').run(JSON.stringify({ body: 'one' }), 0),
      tool('add_labels').run(JSON.stringify({ labels: ['triage'] }), 1),
    ]);
    const writes = [...github.requestsTo(createComment), ...github.requestsTo(addLabels)].map(
      (r) => r.receivedAtMs,
    );
    expect(Math.abs(writes[1]! - writes[0]!)).toBeGreaterThanOrEqual(1_000);

    const readsFrom = github.requests.length;
    await Promise.all([tool('get_issue').run('{}', 2), tool('get_issue').run('{}', 3)]);
    const reads = github.requests
      .slice(readsFrom)
      .filter((r) => r.method === 'GET')
      .map((r) => r.receivedAtMs);
    expect(Math.max(...reads) - Math.min(...reads)).toBeLessThan(500);
  });

  it('never sends arguments that fail validation, nor a body over 65,536 characters', async () => {
    const { github, tool } = await setup();
    for (const [name, args] of [
      ['comment_on_issue', '{}'],
      ['comment_on_issue', '{"body": ""}'],
      ['comment_on_issue', JSON.stringify({ body: 'x'.repeat(65_537) })],
      ['comment_on_issue', JSON.stringify({ body: 'hi', owner: 'elsewhere' })],
      ['comment_on_issue', 'not json'],
      ['add_labels', '{"labels": []}'],
      ['get_issue', '{"number": 2}'],
    ] as const) {
      const result = JSON.parse(await tool(name).run(args, 0)) as { error?: string };
      expect(result.error, `${name} ${args.slice(0, 40)}`).toMatch(/invalid arguments|not valid JSON/);
    }
    expect(github.requests.filter((r) => r.route !== fakeGitHubRoutes.createInstallationToken)).toHaveLength(
      0,
    );
  });
});
