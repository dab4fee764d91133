import { request as octokitRequest } from '@octokit/request';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type FakeGitHub,
  type FakeGitHubOptions,
  startFakeGitHub,
  UnknownFakeGitHubRouteError,
} from './fake-github.ts';
import { fakeGitHubRoutes } from './fake-github-handlers.ts';
import { reply } from './fake-upstream-steps.ts';
import { githubMessages, githubReply } from './github-reply.ts';

const started: FakeGitHub[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((fake) => fake.close()));
});

/** A clock the test moves by hand, so `since` and expiry assertions need no real waiting. */
function manualClock(start = '2025-06-01T12:00:00Z'): { now: () => Date; advance(seconds: number): void } {
  let ms = Date.parse(start);
  return {
    now: () => new Date(ms),
    advance: (seconds) => {
      ms += seconds * 1000;
    },
  };
}

async function setup(options: FakeGitHubOptions = {}) {
  const github = await startFakeGitHub(options);
  started.push(github);
  const request = octokitRequest.defaults({
    baseUrl: github.url,
    headers: { authorization: 'token ghs_test', 'user-agent': 'testkit-test' },
  });
  return { github, request };
}

interface HttpError {
  status: number;
  message: string;
  response?: { headers: Record<string, string | undefined>; data: unknown };
}

/** Octokit's RequestError (status, response) without depending on `@octokit/request-error`. */
async function failure(promise: Promise<unknown>): Promise<HttpError> {
  const error: unknown = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (error === undefined) throw new Error('expected the request to fail');
  return error as HttpError;
}

const ref = { owner: 'octo-org', repo: 'octo-repo', issue_number: 1 } as const;
const commentsRoute = fakeGitHubRoutes.createComment;

describe('startFakeGitHub issues', () => {
  it('serves the default issue the way Octokit reads it', async () => {
    const { request } = await setup();
    const { status, data } = await request('GET /repos/{owner}/{repo}/issues/{issue_number}', ref);
    expect(status).toBe(200);
    expect(data).toMatchObject({
      number: 1,
      title: 'Crash on start',
      body: 'Stack trace: ...',
      state: 'open',
      labels: [{ name: 'bug' }],
      user: { login: 'octocat', type: 'User' },
      comments: 1,
      html_url: 'https://github.com/octo-org/octo-repo/issues/1',
    });
  });

  it('answers 404 Not Found for an unknown issue', async () => {
    const { request } = await setup();
    const error = await failure(
      request('GET /repos/{owner}/{repo}/issues/{issue_number}', { ...ref, issue_number: 99 }),
    );
    expect(error.status).toBe(404);
    expect(error.response?.data).toMatchObject({ message: 'Not Found' });
  });

  it('adds labels without duplicates and returns all of them', async () => {
    const { github, request } = await setup();
    const { status, data } = await request('POST /repos/{owner}/{repo}/issues/{issue_number}/labels', {
      ...ref,
      labels: ['bug', 'agent:working', 'agent:working'],
    });
    expect(status).toBe(200);
    expect(data).toEqual([{ name: 'bug' }, { name: 'agent:working' }]);
    expect(github.issue('octo-org', 'octo-repo', 1)?.labels).toEqual(['bug', 'agent:working']);
  });

  it('mints installation tokens that expire in an hour', async () => {
    const clock = manualClock();
    const { request } = await setup({ now: clock.now });
    const route = 'POST /app/installations/{installation_id}/access_tokens';
    const first = await request(route, { installation_id: 42 });
    const second = await request(route, { installation_id: 42 });
    expect(first.status).toBe(201);
    expect(first.data).toMatchObject({
      token: 'ghs_fake_42_1',
      expires_at: '2025-06-01T13:00:00Z',
      permissions: { issues: 'write' },
    });
    expect(second.data.token).toBe('ghs_fake_42_2');
  });
});

describe('startFakeGitHub comments', () => {
  it('creates a bot comment that the next list shows, ids from 1000 ascending', async () => {
    const { github, request } = await setup({ appSlug: 'my-app' });
    const created = await request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
      ...ref,
      body: 'Working on it.',
    });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({
      id: 1001,
      body: 'Working on it.',
      user: { login: 'my-app[bot]', type: 'Bot' },
      html_url: 'https://github.com/octo-org/octo-repo/issues/1#issuecomment-1001',
    });
    const listed = await request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', ref);
    expect(listed.data.map((c) => [c.id, c.user?.type])).toEqual([
      [1000, 'User'],
      [1001, 'Bot'],
    ]);
    expect(github.comments('octo-org', 'octo-repo', 1)).toEqual(listed.data);
  });

  it('honours since (at or after) and per_page/page, with a link header', async () => {
    const clock = manualClock();
    const { github, request } = await setup({ now: clock.now });
    for (const body of ['one', 'two', 'three']) {
      clock.advance(60);
      github.addComment('octo-org', 'octo-repo', 1, { body });
    }
    const route = 'GET /repos/{owner}/{repo}/issues/{issue_number}/comments';

    const since = await request(route, { ...ref, since: '2025-06-01T12:02:00Z' });
    expect(since.data.map((c) => c.body)).toEqual(['two', 'three']);

    const page2 = await request(route, { ...ref, per_page: 2, page: 2 });
    expect(page2.data.map((c) => c.id)).toEqual([1002, 1003]);
    expect(page2.headers.link).toContain('rel="prev"');
    expect(page2.headers.link).not.toContain('rel="next"');

    const capped = await request(route, { ...ref, per_page: 500 });
    expect(capped.data).toHaveLength(4);
  });

  it('answers 422 Validation Failed for an empty or oversized body, storing nothing', async () => {
    const { github, request } = await setup();
    const route = 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments';
    const empty = await failure(request(route, { ...ref, body: '' }));
    expect(empty.status).toBe(422);
    expect(empty.response?.data).toMatchObject({ message: 'Validation Failed', errors: [{ field: 'body' }] });
    const huge = await failure(request(route, { ...ref, body: 'x'.repeat(65_537) }));
    expect(huge.status).toBe(422);
    expect(github.comments('octo-org', 'octo-repo', 1)).toHaveLength(1);
  });
});

describe('startFakeGitHub faults', () => {
  it('answers a plain fault instead of handling, then handles normally', async () => {
    const { github, request } = await setup({ faults: { [commentsRoute]: [reply.status(502)] } });
    const route = 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments';
    const error = await failure(request(route, { ...ref, body: 'first try' }));
    expect(error.status).toBe(502);
    expect(github.comments('octo-org', 'octo-repo', 1)).toHaveLength(1);

    const retried = await request(route, { ...ref, body: 'second try' });
    expect(retried.status).toBe(201);
    expect(github.comments('octo-org', 'octo-repo', 1).map((c) => c.body)).toContain('second try');
    expect(github.pendingFaults(commentsRoute)).toBe(0);
  });

  it('asks randomFault for requests with no scripted fault left, after the scripted ones', async () => {
    const asked: string[] = [];
    const { github, request } = await setup({
      faults: { [commentsRoute]: [reply.status(502)] },
      randomFault: (route) => {
        asked.push(route);
        return asked.length === 1 ? reply.status(503) : undefined;
      },
    });
    const route = 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments';
    expect((await failure(request(route, { ...ref, body: 'scripted' }))).status).toBe(502);
    expect((await failure(request(route, { ...ref, body: 'random' }))).status).toBe(503);
    expect((await request(route, { ...ref, body: 'handled' })).status).toBe(201);
    expect(asked).toEqual([commentsRoute, commentsRoute]);
    expect(github.comments('octo-org', 'octo-repo', 1).map((c) => c.body)).toContain('handled');
  });

  it('an afterHandling fault stores the comment yet answers 502', async () => {
    const { github, request } = await setup();
    github.injectFaults(commentsRoute, [{ afterHandling: reply.status(502) }]);
    const error = await failure(
      request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...ref, body: 'lost reply' }),
    );
    expect(error.status).toBe(502);
    expect(github.comments('octo-org', 'octo-repo', 1).at(-1)).toMatchObject({
      body: 'lost reply',
      user: { login: 'runner-app[bot]', type: 'Bot' },
    });
    expect(github.requestsTo(commentsRoute)).toHaveLength(1);
  });

  it('an afterHandling reset stores the comment though the client sees only a dropped connection', async () => {
    const { github, request } = await setup({
      faults: { [commentsRoute]: [{ afterHandling: reply.reset() }] },
    });
    const error = await failure(
      request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...ref, body: 'reset reply' }),
    );
    expect(error.response).toBeUndefined();
    expect(github.comments('octo-org', 'octo-repo', 1).map((c) => c.body)).toEqual([
      'I can reproduce this on the latest release.',
      'reset reply',
    ]);
  });

  it('sends primary rate-limit headers with the reset in epoch seconds', async () => {
    const { github, request } = await setup();
    github.injectFaults(fakeGitHubRoutes.getIssue, [githubReply.primaryRateLimit({ resetInSeconds: 30 })]);
    const before = Math.floor(Date.now() / 1000);
    const error = await failure(request('GET /repos/{owner}/{repo}/issues/{issue_number}', ref));
    expect(error.status).toBe(403);
    const headers = error.response?.headers ?? {};
    expect(headers['x-ratelimit-limit']).toBe('5000');
    expect(headers['x-ratelimit-remaining']).toBe('0');
    const reset = Number(headers['x-ratelimit-reset']);
    expect(reset).toBeGreaterThanOrEqual(before + 30);
    expect(reset).toBeLessThanOrEqual(before + 32);
    expect(error.response?.data).toMatchObject({ message: githubMessages.primaryRateLimit });
  });

  it('sends a secondary rate limit with retry-after only when given, and a plain forbidden', async () => {
    const { github, request } = await setup();
    github.injectFaults(fakeGitHubRoutes.getIssue, [
      githubReply.secondaryRateLimit({ retryAfterSeconds: 7 }),
      githubReply.secondaryRateLimit({ status: 429 }),
      githubReply.forbidden(),
    ]);
    const get = () => failure(request('GET /repos/{owner}/{repo}/issues/{issue_number}', ref));

    const withHint = await get();
    expect(withHint.status).toBe(403);
    expect(withHint.response?.headers['retry-after']).toBe('7');
    expect(withHint.response?.data).toMatchObject({ message: githubMessages.secondaryRateLimit });

    const withoutHint = await get();
    expect(withoutHint.status).toBe(429);
    expect(withoutHint.response?.headers['retry-after']).toBeUndefined();

    const forbidden = await get();
    expect(forbidden.status).toBe(403);
    expect(forbidden.response?.data).toMatchObject({ message: 'Resource not accessible by integration' });
    expect(forbidden.response?.headers['x-ratelimit-remaining']).toBeUndefined();
    expect(forbidden.response?.headers['retry-after']).toBeUndefined();
  });

  it('rejects faults for a route it does not serve', async () => {
    await expect(startFakeGitHub({ faults: { 'GET /repos/:owner/:repo/pulls': [] } })).rejects.toThrow(
      UnknownFakeGitHubRouteError,
    );
  });
});
