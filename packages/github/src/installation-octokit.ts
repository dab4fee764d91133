import { Octokit, type OctokitOptions } from '@octokit/core';
import { restEndpointMethods } from '@octokit/plugin-rest-endpoint-methods';
import {
  type Clock,
  formatSeconds,
  type Logger,
  type RetryEvent,
  sleep as realSleep,
  type Sleep,
  silentLogger,
  systemClock,
} from '@runner/retry';
import { GitHubError } from './errors.ts';
import { defaultInstallationTokensOptions, type InstallationTokens } from './installation-tokens.ts';
import { MutationQueue, mutatingMethods } from './mutation-queue.ts';
import { redactSecret } from './redact.ts';

/** `@octokit/core` with `octokit.rest.*` (issues.get, issues.listComments, ...). No retry or throttling plugin. */
export const GitHubOctokit = Octokit.plugin(restEndpointMethods);
export type InstallationOctokit = InstanceType<typeof GitHubOctokit>;

export interface InstallationOctokitOptions {
  /** Where tokens come from; usually one `InstallationTokens` shared by the process. */
  tokens: Pick<InstallationTokens, 'getInstallationToken' | 'invalidate' | 'baseUrl'>;
  installationId: number;
  /** `GITHUB_API_URL`. Default: the token client's `baseUrl`. */
  baseUrl?: string;
  /** Prepended to Octokit's own `user-agent`. Default `github-agent-runner`. */
  userAgent?: string;
  /** Also receives Octokit's own log lines (deprecations); without it Octokit warns on the console. */
  logger?: Logger;
  /** A 401 on a request sent this soon after the token was minted is retried. Default 5 000 ms. */
  propagationWindowMs?: number;
  /** The wait before the n-th such retry is n × this. Default 1 000 ms. */
  propagationDelayMs?: number;
  /**
   * Serialises and spaces this installation's mutating requests (one at a time, ≥ 1 s apart). Share one
   * per process, so that every Octokit for an installation waits in the same line. Default: one of its own.
   */
  mutations?: MutationQueue;
  /** The fetch Octokit sends with, e.g. one that times requests for metrics. Default: global `fetch`. */
  fetch?: typeof fetch;
  /** The retries of token requests this Octokit starts: the job it works for records them. */
  onRetry?: (event: RetryEvent) => void;
  /** Must be the token client's clock: the window is measured from the token's `createdAt`. */
  clock?: Clock;
  sleep?: Sleep;
}

/**
 * GitHub's propagation delay for new installation tokens, as `@octokit/auth-app` handles it
 * (v8.3.1, dist-src/hook.js, `sendRequestWithRetries`): a 401 on a request started less than 5 s after
 * the token was created is retried after `retries × 1 s` (1 s, 2 s, 3 s, ...); a 401 on a request started
 * 5 s or more after creation is thrown. See https://github.com/octokit/auth-app.js/pull/580.
 */
export const defaultPropagationRetry = {
  windowMs: 5_000,
  delayMs: 1_000,
} as const;

/**
 * An Octokit for one installation. Every request gets `authorization: token <installation token>` from
 * `tokens.getInstallationToken` (cached, shared, refreshed before expiry). A 401 within
 * `propagationWindowMs` of minting is retried briefly (GitHub may not have propagated the token yet);
 * after that a 401 is returned as is, and the cached token is dropped so the next request mints afresh.
 * There are no other retries: the tool level wraps each call in `retryWithBackoff` with the
 * `githubTools` policy, and an SDK retry underneath would multiply with it.
 */
export function createInstallationOctokit(options: InstallationOctokitOptions): InstallationOctokit {
  const { tokens, installationId } = options;
  const windowMs = options.propagationWindowMs ?? defaultPropagationRetry.windowMs;
  const delayMs = options.propagationDelayMs ?? defaultPropagationRetry.delayMs;
  const clock = options.clock ?? systemClock;
  const sleep = options.sleep ?? realSleep;
  const logger = options.logger ?? silentLogger;
  const fields = { layer: 'request', target: 'github', installationId };
  const tokenOptions = options.onRetry ? { onRetry: options.onRetry } : {};

  const octokitOptions: OctokitOptions = {
    baseUrl: (options.baseUrl ?? tokens.baseUrl).replace(/\/+$/, ''),
    userAgent: options.userAgent ?? defaultInstallationTokensOptions.userAgent,
    ...(options.fetch ? { request: { fetch: options.fetch } } : {}),
  };
  if (options.logger !== undefined) {
    octokitOptions.log = {
      debug: (message: string) => logger.debug(fields, message),
      info: (message: string) => logger.info(fields, message),
      warn: (message: string) => logger.warn(fields, message),
      error: (message: string) => logger.error(fields, message),
    };
  }
  const octokit = new GitHubOctokit(octokitOptions);
  const mutations = options.mutations ?? new MutationQueue({ clock, sleep });

  octokit.hook.wrap('request', async (request, requestOptions) => {
    const signal = requestOptions.request?.signal;
    const minted = await tokens.getInstallationToken(installationId, {
      ...tokenOptions,
      ...(signal === undefined ? {} : { signal }),
    });
    requestOptions.headers.authorization = `token ${minted.token}`;

    const send = mutatingMethods.has(requestOptions.method.toUpperCase())
      ? () => mutations.run(installationId, async () => request(requestOptions), signal)
      : async () => request(requestOptions);

    for (let retries = 1; ; retries++) {
      const sinceMintMs = clock.now() - minted.createdAt.getTime();
      try {
        return rejectTruncated(await send());
      } catch (error) {
        redactSecret(error, minted.token);
        if ((error as { status?: unknown } | null)?.status !== 401) throw error;
        if (sinceMintMs >= windowMs) {
          tokens.invalidate(installationId, minted.token);
          throw error;
        }
        const waitMs = retries * delayMs;
        logger.warn(
          { ...fields, status: 401, retry: retries, delayMs: waitMs },
          `Retrying in ${formatSeconds(waitMs)} after HTTP 401 on a token minted ${formatSeconds(sinceMintMs)} ago: GitHub may not have propagated it yet`,
        );
        await sleep(waitMs, signal);
      }
    }
  });

  octokit.auth = async () => {
    const { token, expiresAt, createdAt } = await tokens.getInstallationToken(installationId, tokenOptions);
    return {
      type: 'token',
      tokenType: 'installation',
      installationId,
      token,
      expiresAt: expiresAt.toISOString(),
      createdAt: createdAt.toISOString(),
    };
  };
  return octokit;
}

/**
 * `@octokit/request` 10 resolves a 2xx whose body was cut off mid-stream as success with `data: ""`
 * (seen against a server that reset the connection halfway through a 201). A cut-off answer is never a
 * success: it is a lost response, retryable, and for a POST an ambiguous one (the write may have happened).
 */
function rejectTruncated<R extends { status: number; data: unknown; headers: Record<string, unknown> }>(
  response: R,
): R {
  const declaredLength = Number(response.headers['content-length'] ?? Number.NaN);
  const isJson = String(response.headers['content-type'] ?? '').includes('json');
  if (response.status !== 204 && response.data === '' && (isJson || declaredLength > 0)) {
    throw new GitHubError(`GitHub's HTTP ${response.status} response was cut off before its body arrived`, {
      code: 'truncated_response',
      retryable: true,
      reason: 'truncated response',
      layer: 'tool',
      target: 'github',
      status: response.status,
    });
  }
  return response;
}
