import { request as octokitRequest } from '@octokit/request';
import { RetryError, type RetryEvent, type RetryPolicy } from '@runner/retry';
import { type FakeUpstream, reply, startFakeUpstream, type UpstreamScript } from '@runner/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { GitHubError } from './errors.ts';
import { InstallationTokens, type InstallationTokensOptions } from './installation-tokens.ts';
import {
  appId,
  captureLogger,
  credentialOf,
  decodeJwt,
  fastPolicy,
  githubError,
  testKeys,
  tokenReply,
  tokenRoute,
  visibleText,
} from './test-helpers.ts';

let upstream: FakeUpstream | undefined;

afterEach(async () => {
  await upstream?.close();
  upstream = undefined;
});

async function setup(
  script: UpstreamScript,
  options: Partial<InstallationTokensOptions> = {},
): Promise<{ upstream: FakeUpstream; tokens: InstallationTokens }> {
  upstream = await startFakeUpstream(script);
  const tokens = new InstallationTokens({
    appId,
    privateKey: testKeys().privateKey,
    baseUrl: upstream.url,
    policy: fastPolicy,
    ...options,
  });
  return { upstream, tokens };
}

async function rejectionOf(promise: Promise<unknown>): Promise<GitHubError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GitHubError);
  return error as GitHubError;
}

describe('InstallationTokens: the request', () => {
  it('posts a JWT to /app/installations/{id}/access_tokens and returns the token and its expiry', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000);
    const { upstream, tokens } = await setup({
      [tokenRoute]: [
        reply.json(201, { token: 'ghs_abc123', expires_at: expiresAt.toISOString(), permissions: {} }),
      ],
    });

    const result = await tokens.getInstallationToken(42);

    expect(result.token).toBe('ghs_abc123');
    expect(result.expiresAt.toISOString()).toBe(expiresAt.toISOString());
    const [request] = upstream.requestsTo(tokenRoute);
    expect(request?.path).toBe('/app/installations/42/access_tokens');
    expect(request?.headers.authorization).toMatch(/^bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(request?.headers['user-agent']).toContain('github-agent-runner');
  });

  it('signs an RS256 JWT that verifies with the public key, iss = the app id, iat 60 s back, exp ≤ 10 min', async () => {
    const { upstream, tokens } = await setup({ [tokenRoute]: [tokenReply()] });
    const before = Math.floor(Date.now() / 1000);

    await tokens.getInstallationToken(42);

    const after = Math.floor(Date.now() / 1000);
    const jwt = decodeJwt(credentialOf(upstream.requestsTo(tokenRoute)[0]), testKeys().publicKey);
    expect(jwt.verified).toBe(true);
    expect(jwt.header).toEqual({ alg: 'RS256', typ: 'JWT' });
    // universal-github-app-jwt (what @octokit/auth-app calls) passes the id through: a string stays a string.
    expect(jwt.payload.iss).toBe(appId);
    const iat = jwt.payload.iat as number;
    const exp = jwt.payload.exp as number;
    expect(iat).toBeLessThanOrEqual(after - 60);
    expect(iat).toBeGreaterThanOrEqual(before - 61);
    expect(exp - iat).toBe(600);
    expect(exp).toBeLessThanOrEqual(after + 600);
  });

  it('accepts a PKCS#8 key and a key with \\n escapes (a one-line .env value)', async () => {
    const { createPrivateKey } = await import('node:crypto');
    const pkcs8 = createPrivateKey(testKeys().privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
    const oneLine = testKeys().privateKey.trim().replace(/\n/g, '\\n');
    for (const privateKey of [pkcs8, oneLine]) {
      const { upstream, tokens } = await setup({ [tokenRoute]: [tokenReply()] }, { privateKey });
      await tokens.getInstallationToken(1);
      const jwt = decodeJwt(credentialOf(upstream.requestsTo(tokenRoute)[0]), testKeys().publicKey);
      expect(jwt.verified).toBe(true);
      await upstream.close();
    }
  });

  it('refuses an unusable private key at construction, without quoting it', () => {
    const secretLooking = 'MIIEowIBAAKCAQEAsecretsecretsecret';
    for (const privateKey of [
      '-----BEGIN RSA PRIVATE KEY-----',
      `-----BEGIN RSA PRIVATE KEY-----\n${secretLooking}\n-----END RSA PRIVATE KEY-----`,
      'not a key',
    ]) {
      let caught: unknown;
      try {
        new InstallationTokens({ appId, privateKey });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(GitHubError);
      expect((caught as GitHubError).code).toBe('invalid_private_key');
      expect((caught as GitHubError).message).toContain('GITHUB_APP_PRIVATE_KEY');
      expect(visibleText(caught)).not.toContain(secretLooking);
    }
  });
});

describe('InstallationTokens: retries under the githubToken policy', () => {
  it('retries 503, 503 and gets the token on the third attempt, with growing delays', async () => {
    const events: RetryEvent[] = [];
    const { upstream, tokens } = await setup(
      { [tokenRoute]: [reply.status(503), reply.status(503), tokenReply({ token: 'ghs_third' })] },
      { onRetry: (event) => events.push(event) },
    );

    const result = await tokens.getInstallationToken(42);

    expect(result.token).toBe('ghs_third');
    expect(upstream.callCount(tokenRoute)).toBe(3);
    expect(events.map((e) => [e.attempt, e.status, e.layer, e.target])).toEqual([
      [2, 503, 'request', 'githubToken'],
      [3, 503, 'request', 'githubToken'],
    ]);
    const [first, second] = events.map((e) => e.delayMs);
    expect(first).toBeGreaterThanOrEqual(fastPolicy.initialDelayMs);
    expect(second).toBeGreaterThan(first ?? Number.POSITIVE_INFINITY);
    expect(second).toBeLessThanOrEqual(fastPolicy.maxDelayMs);
  });

  it('waits out retry-after: 1 on a 429', async () => {
    const events: RetryEvent[] = [];
    const { upstream, tokens } = await setup(
      { [tokenRoute]: [reply.rateLimited({ retryAfterSeconds: 1 }), tokenReply()] },
      { policy: { ...fastPolicy, maxDelayMs: 2_000 }, onRetry: (event) => events.push(event) },
    );

    await tokens.getInstallationToken(42);

    const [first, second] = upstream.requestsTo(tokenRoute);
    expect((second?.receivedAtMs ?? 0) - (first?.receivedAtMs ?? 0)).toBeGreaterThanOrEqual(1000);
    expect(events).toHaveLength(1);
    expect(events[0]?.delaySource).toBe('server');
  });

  it('aborts an attempt that hangs past the per-attempt timeout and retries with a fresh request', async () => {
    const events: RetryEvent[] = [];
    const { upstream, tokens } = await setup(
      { [tokenRoute]: [reply.hang(), tokenReply({ token: 'ghs_after_hang' })] },
      { policy: { ...fastPolicy, timeoutMs: 200 }, onRetry: (event) => events.push(event) },
    );

    const result = await tokens.getInstallationToken(42);

    expect(result.token).toBe('ghs_after_hang');
    expect(upstream.callCount(tokenRoute)).toBe(2);
    expect(events.map((e) => e.reason)).toEqual(['timeout']);
  });

  it('retries a connection reset, classified as a network error and not as an HTTP 500', async () => {
    const events: RetryEvent[] = [];
    const { upstream, tokens } = await setup(
      { [tokenRoute]: [reply.reset(), tokenReply()] },
      { onRetry: (event) => events.push(event) },
    );

    await tokens.getInstallationToken(42);

    expect(upstream.callCount(tokenRoute)).toBe(2);
    expect(events).toHaveLength(1);
    expect(events[0]?.status).toBeUndefined();
    expect(events[0]?.reason).not.toMatch(/HTTP/);
  });

  it('fails at once on 401 with a message naming GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY', async () => {
    const { upstream, tokens } = await setup({
      [tokenRoute]: [githubError(401, 'A JSON web token could not be decoded')],
    });

    const error = await rejectionOf(tokens.getInstallationToken(42));

    expect(upstream.callCount(tokenRoute)).toBe(1);
    expect(error.message).toContain(
      "GitHub rejected the app's credentials (HTTP 401): check GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY belong to the same app",
    );
    expect(error.message).toContain('A JSON web token could not be decoded');
    expect(error).toMatchObject({
      code: 'bad_credentials',
      retryable: false,
      status: 401,
      layer: 'request',
      target: 'githubToken',
      attempts: 1,
      installationId: 42,
    });
    expect(error.cause).toBeInstanceOf(RetryError);
  });

  it('fails at once on 404 with a message about the installation id', async () => {
    const { upstream, tokens } = await setup({ [tokenRoute]: [githubError(404, 'Not Found')] });

    const error = await rejectionOf(tokens.getInstallationToken(99));

    expect(upstream.callCount(tokenRoute)).toBe(1);
    expect(error.message).toBe(
      'installation 99 not found (HTTP 404): is the app installed on that account, and is the installation id right?',
    );
    expect(error).toMatchObject({ code: 'installation_not_found', retryable: false, status: 404 });
  });

  it('does not retry a 403 without rate-limit headers', async () => {
    const { upstream, tokens } = await setup({
      [tokenRoute]: [githubError(403, 'This installation has been suspended')],
    });

    const error = await rejectionOf(tokens.getInstallationToken(42));

    expect(upstream.callCount(tokenRoute)).toBe(1);
    expect(error.message).toMatch(/^Could not get an installation token for installation 42: /);
    expect(error.message).toContain('This installation has been suspended');
    expect(error).toMatchObject({ code: 'not_retryable', retryable: false, status: 403 });
  });

  it('retries a 403 with x-ratelimit-remaining: 0 once the reset time has passed', async () => {
    let resetSeconds = 0;
    const { upstream, tokens } = await setup(
      {
        [tokenRoute]: [
          () => {
            resetSeconds = Math.floor(Date.now() / 1000) + 2; // 1 to 2 s ahead
            return githubError(403, 'API rate limit exceeded for installation ID 42.', {
              'x-ratelimit-limit': '5000',
              'x-ratelimit-remaining': '0',
              'x-ratelimit-reset': String(resetSeconds),
            });
          },
          tokenReply(),
        ],
      },
      { policy: { ...fastPolicy, maxDelayMs: 3_000 } },
    );

    await tokens.getInstallationToken(42);

    const [, second] = upstream.requestsTo(tokenRoute);
    expect(upstream.callCount(tokenRoute)).toBe(2);
    // Date.now() and the timer clock may disagree by a millisecond or two.
    expect(second?.at.getTime()).toBeGreaterThanOrEqual(resetSeconds * 1000 - 10);
  });

  it('treats a secondary rate limit without retry-after as a 60 s wait: too long here, so retryAt for the job level', async () => {
    const { upstream, tokens } = await setup({
      [tokenRoute]: [
        githubError(
          403,
          'You have exceeded a secondary rate limit and have been temporarily blocked from content creation. Please retry your request again later.',
        ),
      ],
    });
    const before = Date.now();

    const error = await rejectionOf(tokens.getInstallationToken(42));

    expect(upstream.callCount(tokenRoute)).toBe(1);
    expect(error).toMatchObject({
      code: 'retry_after_too_long',
      retryable: true,
      status: 403,
      reason: 'HTTP 403 secondary rate limit',
    });
    expect(error.retryAt?.getTime()).toBeGreaterThanOrEqual(before + 60_000);
    expect(error.retryAt?.getTime()).toBeLessThanOrEqual(Date.now() + 60_000);
  });

  it('keeps retryable after the retries run out, for the job level', async () => {
    const { upstream, tokens } = await setup(
      { [tokenRoute]: [reply.status(502)] },
      { policy: { ...fastPolicy, maxRetries: 2 } },
    );

    const error = await rejectionOf(tokens.getInstallationToken(42));

    expect(upstream.callCount(tokenRoute)).toBe(3);
    expect(error.message).toMatch(
      /^Could not get an installation token for installation 42: Gave up after 3/,
    );
    expect(error).toMatchObject({ code: 'retries_exhausted', retryable: true, status: 502, attempts: 3 });
  });

  it('retries a 201 without a usable token and never quotes its body', async () => {
    const leaked = 'ghs_half_a_response_secret';
    const { upstream, tokens } = await setup(
      { [tokenRoute]: [reply.json(201, { token: leaked })] },
      { policy: { ...fastPolicy, maxRetries: 1 } },
    );

    const error = await rejectionOf(tokens.getInstallationToken(42));

    expect(upstream.callCount(tokenRoute)).toBe(2);
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('without a usable token');
    expect(visibleText(error)).not.toContain(leaked);
  });

  it("re-signs with GitHub's clock after a time-skew 401, as @octokit/auth-app does", async () => {
    const githubAheadSeconds = 3_600;
    const { upstream, tokens } = await setup({
      [tokenRoute]: [
        () =>
          githubError(
            401,
            "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
            {
              date: new Date(Date.now() + githubAheadSeconds * 1000).toUTCString(),
            },
          ),
        tokenReply({ token: 'ghs_after_skew' }),
      ],
    });

    const result = await tokens.getInstallationToken(42);

    expect(result.token).toBe('ghs_after_skew');
    const [first, second] = upstream
      .requestsTo(tokenRoute)
      .map((r) => decodeJwt(credentialOf(r), testKeys().publicKey).payload.iat as number);
    expect((second ?? 0) - (first ?? 0)).toBeGreaterThanOrEqual(githubAheadSeconds - 2);
    expect((second ?? 0) - (first ?? 0)).toBeLessThanOrEqual(githubAheadSeconds + 1);
  });
});

describe('InstallationTokens: cache and single flight', () => {
  it('gives 20 concurrent callers one request and the same token', async () => {
    const { upstream, tokens } = await setup({ [tokenRoute]: [tokenReply()] });

    const results = await Promise.all(Array.from({ length: 20 }, () => tokens.getInstallationToken(42)));

    expect(upstream.callCount(tokenRoute)).toBe(1);
    expect(new Set(results.map((r) => r.token)).size).toBe(1);
  });

  it('reports a shared request’s retries to the caller that started it, once, besides its own hook', async () => {
    const own: RetryEvent[] = [];
    const { tokens } = await setup(
      { [tokenRoute]: [reply.status(503), tokenReply()] },
      { onRetry: (event) => own.push(event) },
    );
    const starter: RetryEvent[] = [];
    const joiner: RetryEvent[] = [];

    await Promise.all([
      tokens.getInstallationToken(42, { onRetry: (event) => starter.push(event) }),
      tokens.getInstallationToken(42, { onRetry: (event) => joiner.push(event) }),
    ]);

    expect(starter).toEqual([expect.objectContaining({ attempt: 2, status: 503, target: 'githubToken' })]);
    expect(joiner).toEqual([]);
    expect(own).toHaveLength(1);
  });

  it('keeps a fresh token and refreshes one within 5 minutes of expiry', async () => {
    const { upstream, tokens } = await setup({
      [tokenRoute]: [
        tokenReply({ expiresInMs: 3_600_000 }),
        tokenReply({ expiresInMs: 4 * 60_000 }),
        tokenReply(),
      ],
    });

    const fresh = await tokens.getInstallationToken(1);
    expect((await tokens.getInstallationToken(1)).token).toBe(fresh.token);
    expect(upstream.callCount(tokenRoute)).toBe(1);

    const nearExpiry = await tokens.getInstallationToken(2);
    const refreshed = await tokens.getInstallationToken(2);
    expect(upstream.callCount(tokenRoute)).toBe(3);
    expect(refreshed.token).not.toBe(nearExpiry.token);
  });

  it('caches per installation', async () => {
    const { upstream, tokens } = await setup({ [tokenRoute]: [tokenReply()] });

    const [a, b] = await Promise.all([tokens.getInstallationToken(1), tokens.getInstallationToken(2)]);

    expect(a.token).not.toBe(b.token);
    expect(upstream.requestsTo(tokenRoute).map((r) => r.params.id)).toEqual(
      expect.arrayContaining(['1', '2']),
    );
  });

  it('shares a failure with every concurrent caller and does not cache it', async () => {
    const { upstream, tokens } = await setup({
      [tokenRoute]: [githubError(404, 'Not Found'), tokenReply({ token: 'ghs_later' })],
    });

    const outcomes = await Promise.allSettled(
      Array.from({ length: 5 }, () => tokens.getInstallationToken(42)),
    );

    expect(upstream.callCount(tokenRoute)).toBe(1);
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
    expect((await tokens.getInstallationToken(42)).token).toBe('ghs_later');
    expect(upstream.callCount(tokenRoute)).toBe(2);
  });

  it('invalidate drops the cached token', async () => {
    const { upstream, tokens } = await setup({ [tokenRoute]: [tokenReply()] });

    const first = await tokens.getInstallationToken(42);
    tokens.invalidate(42, 'ghs_some_other_token');
    expect((await tokens.getInstallationToken(42)).token).toBe(first.token);
    tokens.invalidate(42, first.token);
    expect((await tokens.getInstallationToken(42)).token).not.toBe(first.token);
    expect(upstream.callCount(tokenRoute)).toBe(2);
  });

  it("one caller's abort ends only its own wait while another caller still waits", async () => {
    const { upstream, tokens } = await setup(
      { [tokenRoute]: [reply.hang(), tokenReply({ token: 'ghs_shared' })] },
      { policy: { ...fastPolicy, timeoutMs: 200 } },
    );
    const controller = new AbortController();

    const leaving = tokens.getInstallationToken(42, { signal: controller.signal });
    const staying = tokens.getInstallationToken(42, { signal: new AbortController().signal });
    await upstream.waitForRequests(1, { route: tokenRoute });
    controller.abort(new Error('job cancelled'));

    await expect(leaving).rejects.toThrow('job cancelled');
    expect((await staying).token).toBe('ghs_shared');
    expect(upstream.callCount(tokenRoute)).toBe(2);
  });

  it('aborts the request when its only caller aborts, and the next caller starts afresh', async () => {
    const signals: AbortSignal[] = [];
    const spyFetch: typeof fetch = (input, init) => {
      if (init?.signal) signals.push(init.signal);
      return fetch(input, init);
    };
    const { upstream, tokens } = await setup(
      { [tokenRoute]: [reply.hang(), tokenReply({ token: 'ghs_next' })] },
      { request: octokitRequest.defaults({ request: { fetch: spyFetch } }) },
    );
    const controller = new AbortController();

    const waiting = tokens.getInstallationToken(42, { signal: controller.signal });
    await upstream.waitForRequests(1, { route: tokenRoute });
    controller.abort(new Error('job cancelled'));
    await expect(waiting).rejects.toThrow('job cancelled');

    expect(signals[0]?.aborted).toBe(true);
    expect((await tokens.getInstallationToken(42)).token).toBe('ghs_next');
    expect(upstream.callCount(tokenRoute)).toBe(2);
  });

  it('rejects a bad installation id before any request', async () => {
    const { upstream, tokens } = await setup({ [tokenRoute]: [tokenReply()] });

    await expect(tokens.getInstallationToken(0)).rejects.toThrow(RangeError);
    await expect(tokens.getInstallationToken(1.5)).rejects.toThrow(RangeError);
    expect(upstream.requests).toHaveLength(0);
  });
});

describe('InstallationTokens: secrets', () => {
  const slowEnoughToLog: RetryPolicy = { ...fastPolicy, maxRetries: 2 };

  it('never puts the JWT or the token in a log line, a retry event or an error', async () => {
    const { logger, lines } = captureLogger();
    const events: RetryEvent[] = [];
    const { upstream, tokens } = await setup(
      {
        [tokenRoute]: [reply.status(503), tokenReply()],
        'POST /app/installations/7/access_tokens': [reply.status(500), githubError(401, 'Bad credentials')],
      },
      { logger, onRetry: (event) => events.push(event), policy: slowEnoughToLog },
    );

    const { token } = await tokens.getInstallationToken(42);
    const error = await rejectionOf(tokens.getInstallationToken(7));

    const jwts = upstream.requests.map((r) => credentialOf(r));
    expect(jwts).toHaveLength(4);
    const seen = [
      ...lines.map((l) => `${l.message} ${JSON.stringify(l.fields)}`),
      ...events.map((e) => JSON.stringify(e)),
      visibleText(error),
    ].join('\n');
    expect(lines.some((l) => l.message.includes('Retrying'))).toBe(true);
    // @octokit/request-error redacts the header it keeps on the error: `bearer [REDACTED]`.
    expect(seen).toContain('bearer [REDACTED]');
    expect(seen).not.toContain(token);
    for (const jwt of jwts) {
      expect(seen).not.toContain(jwt);
      // Not even the signature or the payload part alone.
      for (const part of jwt.split('.').slice(1)) expect(seen).not.toContain(part);
    }
  });

  it('scrubs the JWT from an error body that echoes the request (a misbehaving proxy)', async () => {
    const { logger, lines } = captureLogger();
    const { upstream, tokens } = await setup(
      {
        [tokenRoute]: [
          (req) =>
            reply.text(502, `Bad gateway; your request had authorization: ${req.headers.authorization}`),
        ],
      },
      { logger, policy: slowEnoughToLog },
    );

    const error = await rejectionOf(tokens.getInstallationToken(42));

    const jwts = upstream.requests.map((r) => credentialOf(r));
    const seen = [...lines.map((l) => `${l.message} ${JSON.stringify(l.fields)}`), visibleText(error)].join(
      '\n',
    );
    expect(error.message).toContain('[REDACTED]');
    for (const jwt of jwts) expect(seen).not.toContain(jwt);
  });

  it('does not show the key or cached tokens when the client itself is logged', async () => {
    const { tokens } = await setup({ [tokenRoute]: [tokenReply()] });
    const { token } = await tokens.getInstallationToken(42);
    const { inspect } = await import('node:util');

    const shown = `${JSON.stringify(tokens)}\n${inspect(tokens, { depth: 5, showHidden: true })}`;

    expect(shown).not.toContain(token);
    expect(shown).not.toContain('PRIVATE KEY');
  });

  it('names the installation in its log fields', async () => {
    const { logger, lines } = captureLogger();
    const { tokens } = await setup({ [tokenRoute]: [reply.status(503), tokenReply()] }, { logger });

    await tokens.getInstallationToken(42);

    const retryLine = lines.find((l) => l.message.startsWith('Retrying'));
    expect(retryLine?.fields).toMatchObject({ installationId: 42, layer: 'request', target: 'githubToken' });
  });
});

describe('InstallationTokens: defaults', () => {
  it('works with the default githubToken policy and trims a trailing slash from baseUrl', async () => {
    upstream = await startFakeUpstream({ [tokenRoute]: [tokenReply({ token: 'ghs_default' })] });
    const tokens = new InstallationTokens({
      appId,
      privateKey: testKeys().privateKey,
      baseUrl: `${upstream.url}/`,
    });

    expect(tokens.baseUrl).toBe(upstream.url);
    expect((await tokens.getInstallationToken(5)).token).toBe('ghs_default');
    expect(upstream.requestsTo(tokenRoute)[0]?.path).toBe('/app/installations/5/access_tokens');
  });
});
