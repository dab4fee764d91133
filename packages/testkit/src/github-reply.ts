import { reply, type Step, type StepHeaders } from './fake-upstream-steps.ts';

/** Options for {@link githubReply.primaryRateLimit}. */
export interface PrimaryRateLimitOptions {
  /** `x-ratelimit-reset` is this many seconds after the response is sent. */
  readonly resetInSeconds: number;
  /** Default 403; GitHub also answers 429. */
  readonly status?: 403 | 429;
}

/** Options for {@link githubReply.secondaryRateLimit}. */
export interface SecondaryRateLimitOptions {
  /** Sent as `retry-after`; without it clients must fall back to GitHub's "wait a minute" rule. */
  readonly retryAfterSeconds?: number;
  /** Default 403; GitHub also answers 429. */
  readonly status?: 403 | 429;
}

/** Defaults used by the {@link githubReply} builders. */
export const defaultGitHubReplyOptions = {
  rateLimitStatus: 403,
  rateLimitLimit: 5000,
} as const;

/** The messages GitHub sends, verbatim, since clients (ours included) match on them. */
export const githubMessages = {
  primaryRateLimit: 'API rate limit exceeded for installation ID 1.',
  secondaryRateLimit:
    'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
  forbidden: 'Resource not accessible by integration',
} as const;

const docs = {
  primary: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits',
  secondary: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
  forbidden: 'https://docs.github.com/rest/issues/comments#create-an-issue-comment',
} as const;

/**
 * A primary rate limit: `x-ratelimit-remaining: 0` with `x-ratelimit-reset` in epoch seconds.
 * A step function, so the reset is computed when the response goes out rather than when the
 * test built the step; a fault injected early still resets `resetInSeconds` after it is seen.
 */
function primaryRateLimit(options: PrimaryRateLimitOptions): Step {
  const status = options.status ?? defaultGitHubReplyOptions.rateLimitStatus;
  return () => {
    // Round up: a reset that is already due when the client reads it would hide a too-early retry.
    const resetEpochSeconds = Math.ceil((Date.now() + options.resetInSeconds * 1000) / 1000);
    const limit = String(defaultGitHubReplyOptions.rateLimitLimit);
    return reply.json(
      status,
      { message: githubMessages.primaryRateLimit, documentation_url: docs.primary },
      {
        'x-ratelimit-limit': limit,
        'x-ratelimit-remaining': '0',
        'x-ratelimit-used': limit,
        'x-ratelimit-reset': String(resetEpochSeconds),
        'x-ratelimit-resource': 'core',
      },
    );
  };
}

/** A secondary (abuse) rate limit, with `retry-after` only when `retryAfterSeconds` is given. */
function secondaryRateLimit(options: SecondaryRateLimitOptions = {}): Step {
  const headers: StepHeaders =
    options.retryAfterSeconds === undefined ? {} : { 'retry-after': String(options.retryAfterSeconds) };
  return reply.json(
    options.status ?? defaultGitHubReplyOptions.rateLimitStatus,
    { message: githubMessages.secondaryRateLimit, documentation_url: docs.secondary },
    headers,
  );
}

/** A permission 403 with no rate-limit headers: retrying it can never help. */
function forbidden(): Step {
  return reply.json(403, { message: githubMessages.forbidden, documentation_url: docs.forbidden });
}

/** Builders for GitHub-specific fake-upstream {@link Step}s, for use as faults or scripts. */
export const githubReply = {
  primaryRateLimit,
  secondaryRateLimit,
  forbidden,
} as const;
