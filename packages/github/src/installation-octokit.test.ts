import type { Clock, RetryEvent } from '@runner/retry';
import { type FakeUpstream, reply, startFakeUpstream, type UpstreamScript } from '@runner/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { GitHubError } from './errors.ts';
import { createInstallationOctokit, type InstallationOctokitOptions } from './installation-octokit.ts';
import { InstallationTokens } from './installation-tokens.ts';
import {
  appId,
  captureLogger,
  credentialOf,
  fastPolicy,
  githubError,
  testKeys,
  tokenReply,
  tokenRoute,
  visibleText,
} from './test-helpers.ts';

const issueRoute = 'GET /repos/:owner/:repo/issues/:number';
const issue = { number: 7, title: 'Flaky test', state: 'open', labels: [] };

let upstream: FakeUpstream | undefined;

afterEach(async () => {
  await upstream?.close();
  upstream = undefined;
});

/** Real time plus an offset a test can move forward, shared by the token client and the Octokit. */
function movableClock(): Clock & { advance(ms: number): void } {
  let offsetMs = 0;
  return {
    now: () => Date.now() + offsetMs,
    advance: (ms) => {
      offsetMs += ms;
    },
  };
}

async function setup(script: UpstreamScript, options: Partial<InstallationOctokitOptions> = {}) {
  upstream = await startFakeUpstream(script);
  const clock = options.clock ?? movableClock();
  const tokens = new InstallationTokens({
    appId,
    privateKey: testKeys().privateKey,
    baseUrl: upstream.url,
    policy: fastPolicy,
    clock,
  });
  const octokit = createInstallationOctokit({
    tokens,
    installationId: 42,
    propagationDelayMs: 10,
    clock,
    ...options,
  });
  return { upstream, tokens, octokit };
}

const getIssue = (octokit: Awaited<ReturnType<typeof setup>>['octokit']) =>
  octokit.rest.issues.get({ owner: 'acme', repo: 'widgets', issue_number: 7 });

describe('createInstallationOctokit', () => {
  it('sends authorization: token <installation token> and reuses the cached token', async () => {
    const { upstream, octokit } = await setup({
      [tokenRoute]: [tokenReply({ token: 'ghs_installation' })],
      [issueRoute]: [reply.json(200, issue)],
    });

    const first = await getIssue(octokit);
    const second = await getIssue(octokit);

    expect(first.data.title).toBe('Flaky test');
    expect(second.status).toBe(200);
    expect(upstream.callCount(tokenRoute)).toBe(1);
    expect(upstream.requestsTo(tokenRoute)[0]?.path).toBe('/app/installations/42/access_tokens');
    const issueRequests = upstream.requestsTo(issueRoute);
    expect(issueRequests.map((r) => r.headers.authorization)).toEqual([
      'token ghs_installation',
      'token ghs_installation',
    ]);
    expect(issueRequests[0]?.path).toBe('/repos/acme/widgets/issues/7');
    expect(issueRequests[0]?.headers['user-agent']).toContain('github-agent-runner');
  });

  it('retries a 401 that comes within 5 s of minting the token (propagation delay)', async () => {
    const { logger, lines } = captureLogger();
    const { upstream, octokit } = await setup(
      {
        [tokenRoute]: [tokenReply()],
        [issueRoute]: [githubError(401, 'Bad credentials'), reply.json(200, issue)],
      },
      { logger },
    );

    const response = await getIssue(octokit);

    expect(response.status).toBe(200);
    expect(upstream.callCount(issueRoute)).toBe(2);
    expect(upstream.callCount(tokenRoute)).toBe(1);
    const [first, second] = upstream.requestsTo(issueRoute);
    expect(first?.headers.authorization).toBe(second?.headers.authorization);
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.fields)).toEqual([
      expect.objectContaining({ status: 401, retry: 1, delayMs: 10, installationId: 42 }),
    ]);
  });

  it('keeps retrying within the window with growing waits, then gives the 401 back', async () => {
    const { upstream, octokit } = await setup(
      { [tokenRoute]: [tokenReply()], [issueRoute]: [githubError(401, 'Bad credentials')] },
      { propagationWindowMs: 300, propagationDelayMs: 20 },
    );

    await expect(getIssue(octokit)).rejects.toMatchObject({ status: 401 });

    // Requests start at about 0, 20, 60, 120, 200 and 300 ms; the one at 300 ms is past the window.
    const times = upstream.requestsTo(issueRoute).map((r) => r.receivedAtMs);
    expect(times.length).toBeGreaterThanOrEqual(3);
    expect(times.length).toBeLessThanOrEqual(6);
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
    for (const [i, gap] of gaps.entries()) expect(gap).toBeGreaterThanOrEqual((i + 1) * 20 - 2);
  });

  it('returns a 401 at once once the token is older than 5 s, and mints a new token next time', async () => {
    const clock = movableClock();
    const { upstream, octokit } = await setup(
      {
        [tokenRoute]: [tokenReply({ token: 'ghs_old' }), tokenReply({ token: 'ghs_new' })],
        [issueRoute]: [reply.json(200, issue), githubError(401, 'Bad credentials'), reply.json(200, issue)],
      },
      { clock },
    );

    await getIssue(octokit);
    clock.advance(6_000);
    const error = await getIssue(octokit).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ status: 401 });
    expect(upstream.callCount(issueRoute)).toBe(2);

    await getIssue(octokit);
    expect(upstream.callCount(tokenRoute)).toBe(2);
    expect(upstream.requestsTo(issueRoute).map((r) => r.headers.authorization)).toEqual([
      'token ghs_old',
      'token ghs_old',
      'token ghs_new',
    ]);
  });

  it('has no other retries: a 500 or a 403 rate limit comes straight back to the tool level', async () => {
    const { upstream, octokit } = await setup({
      [tokenRoute]: [tokenReply()],
      [issueRoute]: [
        reply.status(500),
        githubError(403, 'API rate limit exceeded', {
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': '1',
        }),
      ],
    });

    await expect(getIssue(octokit)).rejects.toMatchObject({ status: 500 });
    await expect(getIssue(octokit)).rejects.toMatchObject({ status: 403 });
    expect(upstream.callCount(issueRoute)).toBe(2);
  });

  it('fails the call with the token error, keeping retryable and retryAt for the next layers', async () => {
    const { upstream, octokit } = await setup({
      [tokenRoute]: [githubError(404, 'Not Found')],
      [issueRoute]: [reply.json(200, issue)],
    });

    const error = await getIssue(octokit).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(GitHubError);
    expect(error).toMatchObject({ code: 'installation_not_found', retryable: false });
    expect(upstream.callCount(issueRoute)).toBe(0);
  });

  it('reports the retries of the token request it started to its own onRetry', async () => {
    const events: RetryEvent[] = [];
    const { octokit } = await setup(
      {
        [tokenRoute]: [reply.status(503), tokenReply()],
        [issueRoute]: [reply.json(200, issue)],
      },
      { onRetry: (event) => events.push(event) },
    );
    await getIssue(octokit);
    expect(events).toEqual([
      expect.objectContaining({ attempt: 2, status: 503, layer: 'request', target: 'githubToken' }),
    ]);
  });

  it('passes the request signal to the call and to the token request', async () => {
    const { upstream, octokit } = await setup({
      [tokenRoute]: [reply.hang(), tokenReply()],
      [issueRoute]: [reply.hang()],
    });
    const getWith = (signal: AbortSignal) =>
      octokit.rest.issues.get({ owner: 'acme', repo: 'widgets', issue_number: 7, request: { signal } });

    // Cancelled while the token request hangs: that request is abandoned, the next call mints afresh.
    const whileMinting = new AbortController();
    const minting = getWith(whileMinting.signal);
    await upstream.waitForRequests(1, { route: tokenRoute });
    whileMinting.abort(new Error('cancelled while minting'));
    await expect(minting).rejects.toThrow('cancelled while minting');

    // Cancelled while the call itself hangs.
    const whileCalling = new AbortController();
    const calling = getWith(whileCalling.signal);
    await upstream.waitForRequests(1, { route: issueRoute });
    whileCalling.abort(new Error('cancelled while calling'));
    await expect(calling).rejects.toThrow('cancelled while calling');
    expect(upstream.callCount(tokenRoute)).toBe(2);
  });

  it('never puts the token in an error or a log line', async () => {
    const { logger, lines } = captureLogger();
    const { upstream, octokit } = await setup(
      {
        [tokenRoute]: [tokenReply()],
        [issueRoute]: [
          githubError(401, 'Bad credentials'),
          (req) => reply.text(404, `no such issue; you sent ${req.headers.authorization}`),
        ],
      },
      { logger },
    );

    const error = await getIssue(octokit).then(
      () => undefined,
      (e: unknown) => e,
    );

    const token = credentialOf(upstream.requestsTo(issueRoute)[0]);
    expect(token).toMatch(/^ghs_/);
    const seen = [...lines.map((l) => `${l.message} ${JSON.stringify(l.fields)}`), visibleText(error)].join(
      '\n',
    );
    expect(seen).toContain('token [REDACTED]');
    expect(seen).not.toContain(token);
  });

  it('octokit.auth() describes the installation token', async () => {
    const { octokit } = await setup({ [tokenRoute]: [tokenReply({ token: 'ghs_for_git' })] });

    await expect(octokit.auth()).resolves.toMatchObject({
      type: 'token',
      tokenType: 'installation',
      installationId: 42,
      token: 'ghs_for_git',
    });
  });

  it('defaults baseUrl to the token client', async () => {
    const { octokit, upstream } = await setup({ [tokenRoute]: [tokenReply()] });

    expect(octokit.request.endpoint.DEFAULTS.baseUrl).toBe(upstream.url);
  });
});
