import { request as octokitRequest } from '@octokit/request';
import {
  allRetryHooks,
  type Clock,
  defaultPolicies,
  type FleetGuard,
  type Logger,
  type Random,
  RetryError,
  type RetryEvent,
  type RetryOptions,
  type RetryPolicy,
  retryWithBackoff,
  type Sleep,
  silentLogger,
  systemClock,
} from '@runner/retry';
import { clockSkewSeconds, normalizePrivateKey, signAppJwt } from './app-jwt.ts';
import { classifyGitHubError } from './classify-github-error.ts';
import { GitHubError } from './errors.ts';
import { installationTarget } from './installation-fleet.ts';
import { withFields } from './logger.ts';
import { redactSecret } from './redact.ts';

/** An `@octokit/request` function, e.g. `request.defaults({ request: { fetch } })`. */
export type OctokitRequest = typeof octokitRequest;

export interface InstallationTokensOptions {
  /** `GITHUB_APP_ID`: the App ID (or Client ID) from the app's settings page; becomes the JWT's `iss`. */
  appId: string;
  /** `GITHUB_APP_PRIVATE_KEY`: the app's RSA key in PEM (PKCS#1 or PKCS#8); `\n` escapes are accepted. */
  privateKey: string;
  /** `GITHUB_API_URL`. Default `https://api.github.com`; GHES: `https://HOST/api/v3`. */
  baseUrl?: string;
  /** Default `defaultPolicies.githubToken`: 5 retries, 1 s–30 s, full jitter, 10 s per attempt. */
  policy?: RetryPolicy;
  /** A cached token is replaced this long before its `expires_at`. Default 5 min. In ms. */
  refreshBeforeExpiryMs?: number;
  logger?: Logger;
  onRetry?: (event: RetryEvent) => void;
  /** Sent as `user-agent` (GitHub requires one). Default `github-agent-runner`. */
  userAgent?: string;
  clock?: Clock;
  sleep?: Sleep;
  random?: Random;
  /** The `@octokit/request` to send with; tests pass one with their own `fetch`. `baseUrl` still applies. */
  request?: OctokitRequest;
  /**
   * Cooperation with the other workers (`createGitHubFleetGuard`): token requests wait out the
   * installation's shared cooldown, take its rate limit's tokens and retry within its shared budget.
   */
  fleet?: FleetGuard;
}

export const defaultInstallationTokensOptions = {
  baseUrl: 'https://api.github.com',
  refreshBeforeExpiryMs: 5 * 60_000,
  userAgent: 'github-agent-runner',
} as const;

export interface InstallationToken {
  /** `ghs_...`. Goes in `authorization: token <token>`; never logged. */
  token: string;
  /** GitHub's `expires_at` (tokens live one hour). */
  expiresAt: Date;
  /** When we received it, by our clock; the Octokit uses it for GitHub's propagation delay. */
  createdAt: Date;
}

export interface GetInstallationTokenOptions {
  /** Stops this caller's wait. The shared request is aborted only when every caller waiting on it has gone. */
  signal?: AbortSignal;
  /**
   * The retries of a request this call starts, besides the client's own `onRetry`: the job that asked
   * records them in its timeline. A caller that joins a request already in flight only waits on it; the
   * retries are the starter's, counted once.
   */
  onRetry?: (event: RetryEvent) => void;
}

interface CachedToken {
  token: string;
  expiresAtMs: number;
  createdAtMs: number;
}

/** One in-flight token request per installation, shared by every caller that asks meanwhile. */
interface Flight {
  readonly promise: Promise<CachedToken>;
  readonly controller: AbortController;
  /** Callers waiting with a signal; a caller without one keeps the flight alive regardless. */
  waiters: number;
  /** False once a caller without a signal joined: then nothing aborts the flight. */
  abortable: boolean;
}

const tokenRoute = 'POST /app/installations/{installation_id}/access_tokens';

/**
 * GitHub App installation tokens (layer 1): signs the App JWT, calls
 * `POST /app/installations/{id}/access_tokens` under the `githubToken` retry policy, caches each token
 * until `refreshBeforeExpiryMs` before it expires, and lets concurrent callers for one installation
 * share one request. Neither the token nor the JWT appears in a log line or an error message.
 */
export class InstallationTokens {
  readonly baseUrl: string;
  // ES-private, so neither JSON.stringify nor util.inspect of the client shows the key or the tokens.
  readonly #appId: string;
  readonly #privateKey: string;
  readonly #policy: RetryPolicy;
  readonly #fleet: FleetGuard | undefined;
  readonly #refreshBeforeExpiryMs: number;
  readonly #logger: Logger;
  readonly #onRetry: ((event: RetryEvent) => void) | undefined;
  readonly #clock: Clock;
  readonly #sleep: Sleep | undefined;
  readonly #random: Random | undefined;
  readonly #request: OctokitRequest;
  readonly #cache = new Map<number, CachedToken>();
  readonly #flights = new Map<number, Flight>();
  /** How far GitHub's clock is ahead of ours, learnt from a time-skew 401. In s. */
  #clockSkewSeconds = 0;

  /** @throws GitHubError `invalid_private_key` when the key cannot be used; TypeError for an empty app id. */
  constructor(options: InstallationTokensOptions) {
    const appId = options.appId.trim();
    if (appId === '') {
      throw new TypeError(
        "InstallationTokens: appId is empty; set GITHUB_APP_ID to the App ID from the app's settings page",
      );
    }
    this.#appId = appId;
    this.#privateKey = normalizePrivateKey(options.privateKey);
    this.baseUrl = (options.baseUrl ?? defaultInstallationTokensOptions.baseUrl).replace(/\/+$/, '');
    this.#policy = options.policy ?? defaultPolicies.githubToken;
    this.#refreshBeforeExpiryMs =
      options.refreshBeforeExpiryMs ?? defaultInstallationTokensOptions.refreshBeforeExpiryMs;
    if (!(Number.isFinite(this.#refreshBeforeExpiryMs) && this.#refreshBeforeExpiryMs >= 0)) {
      throw new RangeError(
        `InstallationTokens: refreshBeforeExpiryMs must be a finite number >= 0, got ${this.#refreshBeforeExpiryMs}`,
      );
    }
    this.#logger = options.logger ?? silentLogger;
    this.#onRetry = options.onRetry;
    this.#clock = options.clock ?? systemClock;
    this.#sleep = options.sleep;
    this.#random = options.random;
    this.#fleet = options.fleet;
    this.#request = (options.request ?? octokitRequest).defaults({
      baseUrl: this.baseUrl,
      headers: { 'user-agent': options.userAgent ?? defaultInstallationTokensOptions.userAgent },
    });
  }

  /**
   * A token for `installationId`: the cached one while it has more than `refreshBeforeExpiryMs` left,
   * else a new one. Concurrent callers share one request; a failure is not cached.
   *
   * @throws GitHubError `bad_credentials` (401), `installation_not_found` (404), or with the retry loop's
   *   code (`retries_exhausted`, `retry_after_too_long`, ...) keeping its `retryable` and `retryAt`;
   *   or the signal's reason when the caller aborts.
   */
  async getInstallationToken(
    installationId: number,
    options: GetInstallationTokenOptions = {},
  ): Promise<InstallationToken> {
    if (!(Number.isSafeInteger(installationId) && installationId > 0)) {
      throw new RangeError(
        `getInstallationToken: installationId must be a positive whole number, got ${String(installationId)}`,
      );
    }
    const { signal } = options;
    signal?.throwIfAborted();
    const cached = this.#cache.get(installationId);
    if (cached !== undefined && this.#isFresh(cached)) return toPublic(cached);

    const flight = this.#flights.get(installationId) ?? this.#startFlight(installationId, options.onRetry);
    return toPublic(await this.#join(flight, installationId, signal));
  }

  /**
   * Drops the cached token for `installationId` (only if it is still `token`, when given), e.g. after
   * GitHub refused it long after it was minted. The next call mints a new one.
   */
  invalidate(installationId: number, token?: string): void {
    const cached = this.#cache.get(installationId);
    if (cached !== undefined && (token === undefined || cached.token === token)) {
      this.#cache.delete(installationId);
    }
  }

  #isFresh(cached: CachedToken): boolean {
    return cached.expiresAtMs - this.#refreshBeforeExpiryMs > this.#clock.now();
  }

  #startFlight(installationId: number, onRetry: ((event: RetryEvent) => void) | undefined): Flight {
    const controller = new AbortController();
    const flight: Flight = {
      controller,
      waiters: 0,
      abortable: true,
      promise: this.#mint(installationId, controller.signal, onRetry).finally(() =>
        this.#endFlight(installationId, flight),
      ),
    };
    this.#flights.set(installationId, flight);
    return flight;
  }

  #endFlight(installationId: number, flight: Flight): void {
    if (this.#flights.get(installationId) === flight) this.#flights.delete(installationId);
  }

  /** Waits for the shared flight; this caller's abort rejects only its own wait, unless it was the last. */
  #join(flight: Flight, installationId: number, signal: AbortSignal | undefined): Promise<CachedToken> {
    if (signal === undefined) {
      flight.abortable = false;
      return flight.promise;
    }
    flight.waiters += 1;
    return new Promise<CachedToken>((resolve, reject) => {
      const onAbort = () => {
        flight.waiters -= 1;
        if (flight.abortable && flight.waiters === 0) {
          // Nobody wants this token any more: stop the request, and let the next caller start afresh.
          this.#endFlight(installationId, flight);
          flight.controller.abort(signal.reason);
        }
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      flight.promise.then(
        (token) => {
          signal.removeEventListener('abort', onAbort);
          resolve(token);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  async #mint(
    installationId: number,
    signal: AbortSignal,
    callerOnRetry: ((event: RetryEvent) => void) | undefined,
  ): Promise<CachedToken> {
    const logger = withFields(this.#logger, { installationId });
    const options: RetryOptions = {
      policy: this.#policy,
      signal,
      classify: classifyGitHubError,
      logger,
      layer: 'request',
      target: 'githubToken',
      clock: this.#clock,
    };
    const onRetry = allRetryHooks(this.#onRetry, callerOnRetry);
    if (onRetry !== undefined) options.onRetry = onRetry;
    if (this.#sleep !== undefined) options.sleep = this.#sleep;
    if (this.#random !== undefined) options.random = this.#random;

    let minted: CachedToken;
    try {
      const shared = await this.#fleet?.forCall<CachedToken>(
        installationTarget(installationId),
        this.#policy.maxDelayMs,
      );
      if (shared) {
        options.pace = shared.pace;
        options.beforeRetry = shared.beforeRetry;
      }
      minted = await retryWithBackoff((_attempt, attemptSignal) => {
        const send = () => this.#requestToken(installationId, attemptSignal, logger);
        return shared ? shared.observe(send) : send();
      }, options);
    } catch (error) {
      throw toTokenError(error, installationId);
    }
    this.#cache.set(installationId, minted);
    logger.debug(
      { layer: 'request', target: 'githubToken', expiresAt: new Date(minted.expiresAtMs).toISOString() },
      `Got an installation token for installation ${installationId}`,
    );
    return minted;
  }

  /** One attempt: a fresh JWT, one POST; on a time-skew 401, one more with GitHub's clock (as auth-app). */
  async #requestToken(installationId: number, signal: AbortSignal, logger: Logger): Promise<CachedToken> {
    try {
      return await this.#post(installationId, signal);
    } catch (error) {
      const skew = clockSkewSeconds(error, this.#clock.now());
      if (skew === undefined) throw error;
      logger.warn(
        { layer: 'request', target: 'githubToken', skewSeconds: skew },
        `GitHub's clock and ours differ by ${skew}s; signing the app JWT with GitHub's time and trying again`,
      );
      this.#clockSkewSeconds = skew;
      return await this.#post(installationId, signal);
    }
  }

  async #post(installationId: number, signal: AbortSignal): Promise<CachedToken> {
    const nowSeconds = Math.floor(this.#clock.now() / 1000) + this.#clockSkewSeconds;
    const jwt = await signAppJwt(this.#appId, this.#privateKey, nowSeconds);
    let response: { status: number; data: unknown };
    try {
      response = await this.#request(tokenRoute, {
        installation_id: installationId,
        headers: { authorization: `bearer ${jwt}` },
        request: { signal },
      });
    } catch (error) {
      throw redactSecret(error, jwt);
    }
    return parseToken(response, this.#clock.now());
  }
}

function parseToken(response: { status: number; data: unknown }, nowMs: number): CachedToken {
  const data = response.data;
  const record = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
  const token = record.token;
  const expiresAtMs = typeof record.expires_at === 'string' ? Date.parse(record.expires_at) : Number.NaN;
  if (typeof token !== 'string' || token === '' || Number.isNaN(expiresAtMs)) {
    // The body is not quoted: it may hold the token.
    throw new GitHubError(
      `GitHub answered HTTP ${response.status} without a usable token and expires_at in the body`,
      {
        code: 'invalid_token_response',
        retryable: true,
        reason: 'invalid token response',
        layer: 'request',
        target: 'githubToken',
        status: response.status,
      },
    );
  }
  return { token, expiresAtMs, createdAtMs: nowMs };
}

function toPublic(cached: CachedToken): InstallationToken {
  return {
    token: cached.token,
    expiresAt: new Date(cached.expiresAtMs),
    createdAt: new Date(cached.createdAtMs),
  };
}

/** The retry loop's final error, said in terms of what to check. Anything else (an abort) passes as is. */
function toTokenError(error: unknown, installationId: number): unknown {
  if (!(error instanceof RetryError)) return error;
  const details = {
    retryable: error.retryable,
    reason: error.reason,
    layer: 'request',
    target: 'githubToken',
    status: error.status,
    attempts: error.attempts,
    retryAt: error.retryAt,
    installationId,
    cause: error,
  } as const;
  const final = error.code === 'not_retryable';
  if (final && error.status === 401) {
    return new GitHubError(
      `GitHub rejected the app's credentials (HTTP 401): check GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY belong to the same app${githubSaid(error.cause)}`,
      { ...details, code: 'bad_credentials' },
    );
  }
  if (final && error.status === 404) {
    return new GitHubError(
      `installation ${installationId} not found (HTTP 404): is the app installed on that account, and is the installation id right?`,
      { ...details, code: 'installation_not_found' },
    );
  }
  return new GitHubError(
    `Could not get an installation token for installation ${installationId}: ${error.message}`,
    {
      ...details,
      code: error.code,
    },
  );
}

function githubSaid(cause: unknown): string {
  const message = cause instanceof Error ? cause.message.trim() : '';
  return message === '' ? '' : ` (GitHub said: ${message})`;
}
