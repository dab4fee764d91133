import {
  CircuitBreaker,
  CircuitOpenError,
  InMemoryCircuitStore,
  InMemoryCooldownStore,
  InMemoryRetryBudget,
  type RetryPolicy,
} from '@runner/retry';
import { type FakeGitHub, fakeGitHubRoutes, githubReply, reply, startFakeGitHub } from '@runner/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyGitHubError } from './classify-github-error.ts';
import { GitHubError } from './errors.ts';
import { createGitHubFleetGuard, type InstallationFleet, installationTarget } from './installation-fleet.ts';
import { createInstallationOctokit } from './installation-octokit.ts';
import { InstallationTokens } from './installation-tokens.ts';
import { appId, testKeys, tokenRoute } from './test-helpers.ts';
import { callGitHub } from './tool-call.ts';

const { getIssue } = fakeGitHubRoutes;
const issue = { owner: 'octo-org', repo: 'octo-repo', issue_number: 1 };
const fast: RetryPolicy = {
  maxRetries: 3,
  initialDelayMs: 10,
  maxDelayMs: 5_000,
  multiplier: 2,
  jitter: 'none',
  timeoutMs: 2_000,
};

let github: FakeGitHub | undefined;
afterEach(async () => {
  await github?.close();
  github = undefined;
});

/**
 * What one worker process has: its own token client and guard, over stores shared with the other
 * "processes" of the test (in-memory here; `@runner/fleet` puts the same interfaces in Redis).
 */
function workerProcess(url: string, shared: SharedStores) {
  const guard = createGitHubFleetGuard({
    cooldowns: shared.cooldowns,
    ...(shared.budget && { budget: shared.budget }),
  });
  const tokens = new InstallationTokens({
    appId,
    privateKey: testKeys().privateKey,
    baseUrl: url,
    fleet: guard,
  });
  return (installationId: number) => {
    const octokit = createInstallationOctokit({ tokens, installationId });
    const fleet: InstallationFleet = {
      guard,
      target: installationTarget(installationId),
      ...(shared.circuit && {
        breaker: new CircuitBreaker({
          name: installationTarget(installationId),
          store: shared.circuit,
          failureThreshold: 2,
          cooldownMs: 60_000,
          classify: classifyGitHubError,
        }),
      }),
    };
    return () =>
      callGitHub(
        'get_issue',
        (_attempt, signal) => octokit.rest.issues.get({ ...issue, request: { signal } }),
        {
          policy: fast,
          fleet,
        },
      );
  };
}

interface SharedStores {
  cooldowns: InMemoryCooldownStore;
  budget?: InMemoryRetryBudget;
  circuit?: InMemoryCircuitStore;
}

describe('GitHub calls cooperating across the fleet', () => {
  it('holds every process off an installation once one has heard its rate limit, and only that installation', async () => {
    github = await startFakeGitHub();
    // No hint header: only GitHub's own rule (wait 60 s) says how long, so this also checks that the
    // fleet reads failures with the GitHub classifier.
    github.injectFaults(getIssue, [githubReply.secondaryRateLimit()]);
    const cooldowns = new InMemoryCooldownStore();
    const first = workerProcess(github.url, { cooldowns });
    const second = workerProcess(github.url, { cooldowns });

    const firstError = await first(7)().catch((error: unknown) => error);
    const secondError = await second(7)().catch((error: unknown) => error);
    // Installation 8 has a quota of its own: nothing holds it.
    const otherInstallation = await second(8)();

    expect(otherInstallation.data.number).toBe(1);
    for (const error of [firstError, secondError]) {
      // Longer than the tool level waits: the job level gets the time and delays the job.
      expect(error).toMatchObject({ code: 'retry_after_too_long', retryable: true, layer: 'tool' });
      expect((error as GitHubError).retryAt?.getTime()).toBeGreaterThan(Date.now() + 55_000);
    }
    // One rate-limited request for the whole fleet: the second process never asked into the limit.
    const sentBy = (installationId: number) =>
      github!
        .requestsTo(getIssue)
        .filter((request) => request.headers.authorization?.startsWith(`token ghs_fake_${installationId}_`));
    expect(sentBy(7)).toHaveLength(1);
    expect(sentBy(8)).toHaveLength(1);
  });

  it('fails every process fast once one has opened the installation’s circuit, handing the job a time', async () => {
    github = await startFakeGitHub();
    github.injectFaults(
      getIssue,
      Array.from({ length: 10 }, () => reply.status(502)),
    );
    const shared = { cooldowns: new InMemoryCooldownStore(), circuit: new InMemoryCircuitStore() };
    const first = workerProcess(github.url, shared);
    const second = workerProcess(github.url, shared);

    const firstError = await first(7)().catch((error: unknown) => error);
    expect(github.requestsTo(getIssue)).toHaveLength(2);
    const secondError = await second(7)().catch((error: unknown) => error);

    for (const error of [firstError, secondError]) {
      expect(error).toBeInstanceOf(GitHubError);
      expect((error as GitHubError).retryable).toBe(true);
      expect((error as GitHubError).cause).toBeInstanceOf(CircuitOpenError);
      expect((error as GitHubError).retryAt?.getTime()).toBeGreaterThan(Date.now() + 50_000);
    }
    // The second process sent nothing: the circuit the first opened was open for it too.
    expect(github.requestsTo(getIssue)).toHaveLength(2);
  });

  it('stops retrying fleet-wide when the shared budget is spent, with a time for the job level', async () => {
    github = await startFakeGitHub();
    github.injectFaults(
      getIssue,
      Array.from({ length: 10 }, () => reply.status(503)),
    );
    // One retry a window for the whole fleet, whatever each process's policy allows.
    const budget = new InMemoryRetryBudget({ ratio: 0, minRetriesPerWindow: 1, windowMs: 60_000 });
    const shared = { cooldowns: new InMemoryCooldownStore(), budget };
    const errors = [
      await workerProcess(github.url, shared)(7)().catch((error: unknown) => error),
      await workerProcess(github.url, shared)(7)().catch((error: unknown) => error),
    ];

    // 2 + 1 attempts, where the policy alone would have made 4 + 4.
    expect(github.requestsTo(getIssue)).toHaveLength(3);
    for (const error of errors) {
      expect(error).toBeInstanceOf(GitHubError);
      expect(error).toMatchObject({ code: 'retry_budget_exhausted', retryable: true, layer: 'tool' });
      expect((error as GitHubError).retryAt).toBeInstanceOf(Date);
    }
  });

  it('holds the installation for every process when its token request is rate limited', async () => {
    github = await startFakeGitHub();
    github.injectFaults(tokenRoute, [reply.json(429, { message: 'slow down' }, { 'retry-after': '60' })]);
    const cooldowns = new InMemoryCooldownStore();
    const tokenClient = () =>
      new InstallationTokens({
        appId,
        privateKey: testKeys().privateKey,
        baseUrl: github!.url,
        fleet: createGitHubFleetGuard({ cooldowns }),
      });
    const first = await tokenClient()
      .getInstallationToken(7)
      .catch((error: unknown) => error);
    const second = await tokenClient()
      .getInstallationToken(7)
      .catch((error: unknown) => error);

    for (const error of [first, second]) expect(error).toMatchObject({ retryable: true });
    expect(await cooldowns.until(installationTarget(7))).toBeGreaterThan(Date.now() + 55_000);
    expect(await cooldowns.until(installationTarget(8))).toBeUndefined();
    // The second process did not ask: it knew of the limit.
    expect(github.requestsTo(tokenRoute)).toHaveLength(1);
  });
});

describe('an installation circuit with classifyGitHubError', () => {
  const httpError = (status: number, headers: Record<string, string> = {}) =>
    Object.assign(new Error(`HTTP ${status}`), {
      name: 'HttpError',
      status,
      response: { status, headers, data: {} },
    });
  const opensOn = async (error: unknown) => {
    const breaker = new CircuitBreaker({
      name: installationTarget(7),
      failureThreshold: 1,
      classify: classifyGitHubError,
    });
    await breaker.execute(() => Promise.reject(error)).catch(() => {});
    return (await breaker.state()) === 'open';
  };

  it('opens on GitHub in trouble, and neither on quotas nor on refusals', async () => {
    expect(await opensOn(httpError(502))).toBe(true);
    expect(await opensOn(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    expect(await opensOn(httpError(429, { 'retry-after': '5' }))).toBe(false);
    expect(await opensOn(httpError(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '9' }))).toBe(
      false,
    );
    expect(await opensOn(httpError(403, {}))).toBe(false);
    expect(await opensOn(httpError(404))).toBe(false);
    expect(await opensOn(new CircuitOpenError('github:installation:8', new Date()))).toBe(false);
  });
});
