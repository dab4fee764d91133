import {
  createFakeGitHubHandlers,
  type FakeGitHubHandler,
  type FakeGitHubRoute,
  fakeGitHubRoutes,
} from './fake-github-handlers.ts';
import {
  defaultFakeCommenter,
  defaultFakeIssues,
  type FakeCommentSeed,
  type FakeGitHubComment,
  type FakeGitHubIssue,
  FakeGitHubState,
  type FakeGitHubUser,
  type FakeIssueSeed,
} from './fake-github-state.ts';
import {
  type FakeUpstreamOptions,
  type RouteScript,
  startFakeUpstream,
  type WaitForRequestsOptions,
} from './fake-upstream.ts';
import type { Step } from './fake-upstream-steps.ts';
import type { RecordedRequest } from './recorded-request.ts';
import { canonicalRouteKey } from './route-matcher.ts';

/**
 * Do the normal handling (state changes, e.g. the comment is stored), then answer with `afterHandling`
 * instead of the real response: GitHub did the work but the client never learns of it.
 */
export interface AfterHandlingFault {
  readonly afterHandling: Step;
}

/**
 * One injected fault: a {@link Step} answered INSTEAD of handling (state unchanged), or an
 * {@link AfterHandlingFault}.
 */
export type FaultStep = Step | AfterHandlingFault;

/** Options for {@link startFakeGitHub}; `host` and `port` go to the underlying fake upstream. */
export interface FakeGitHubOptions extends FakeUpstreamOptions {
  /** The issues (and their comments) the fake starts with. Default {@link defaultFakeIssues}. */
  readonly issues?: readonly FakeIssueSeed[];
  /** The GitHub App's slug; comments posted through the API are by `${appSlug}[bot]`. */
  readonly appSlug?: string;
  /** Faults per route key (see {@link fakeGitHubRoutes}), consumed one per request, in order. */
  readonly faults?: Readonly<Record<string, readonly FaultStep[]>>;
  /**
   * Asked for each request that has no scripted fault left: a fault to inject, or undefined to handle
   * it normally. For faults at random (the fault suite's upstream chaos), from a seeded source.
   */
  readonly randomFault?: (route: FakeGitHubRoute) => FaultStep | undefined;
  /** Clock for comment timestamps and token expiry. Default: the system clock. */
  readonly now?: () => Date;
}

/** Defaults for {@link FakeGitHubOptions}. */
export const defaultFakeGitHubOptions = {
  appSlug: 'runner-app',
  issues: defaultFakeIssues,
} as const;

/** A fault was given for a route the fake GitHub does not serve (most likely a typo). */
export class UnknownFakeGitHubRouteError extends Error {
  override readonly name = 'UnknownFakeGitHubRouteError';
  constructor(readonly route: string) {
    super(
      `Fake GitHub has no route "${route}"; fault keys are: ${Object.values(fakeGitHubRoutes).join(', ')}`,
    );
  }
}

/** A running fake GitHub; see {@link startFakeGitHub}. */
export interface FakeGitHub {
  /** Base URL for Octokit's `baseUrl`, e.g. `http://127.0.0.1:43123`. */
  readonly url: string;
  /** `${appSlug}[bot]`, of type `Bot`: the author of comments posted through the API. */
  readonly botUser: FakeGitHubUser;
  /** Every request received, in arrival order (a live array). */
  readonly requests: readonly RecordedRequest[];
  /** Requests to `route` (a {@link fakeGitHubRoutes} key), in arrival order, faulted ones included. */
  requestsTo(route: string): readonly RecordedRequest[];
  /** Resolves once `count` requests (to `options.route`, if given) have arrived. */
  waitForRequests(count: number, options?: WaitForRequestsOptions): Promise<readonly RecordedRequest[]>;
  /** Appends faults for `route`; they are used after any still pending for it. */
  injectFaults(route: string, steps: readonly FaultStep[]): void;
  /** How many faults for `route` are still waiting for a request. */
  pendingFaults(route: string): number;
  /** The issue as stored now, or `undefined`. */
  issue(owner: string, repo: string, number: number): FakeGitHubIssue | undefined;
  /** The issue's comments as stored now, by id ascending; empty for an unknown issue. */
  comments(owner: string, repo: string, number: number): readonly FakeGitHubComment[];
  /**
   * Stores a comment as if someone commented on GitHub (default author `monalisa`, a human;
   * default time now), e.g. a reply arriving while the runner works. Throws if there is no issue.
   */
  addComment(owner: string, repo: string, number: number, comment: FakeCommentSeed): FakeGitHubComment;
  /** Stops the server, hanging requests included. Idempotent. */
  close(): Promise<void>;
}

function isAfterHandling(fault: FaultStep): fault is AfterHandlingFault {
  return typeof fault === 'object' && 'afterHandling' in fault;
}

/** Canonical key of one of our routes, or {@link UnknownFakeGitHubRouteError}. */
function knownRoute(route: string): FakeGitHubRoute {
  let key: string;
  try {
    key = canonicalRouteKey(route);
  } catch {
    throw new UnknownFakeGitHubRouteError(route);
  }
  const match = Object.values(fakeGitHubRoutes).find((known) => known === key);
  if (match === undefined) throw new UnknownFakeGitHubRouteError(route);
  return match;
}

/**
 * Starts a stateful fake of the GitHub REST API slice the runner uses, over real HTTP:
 * installation tokens, get issue, list/create issue comments, add labels. Faults injected per
 * route are played before normal handling, one per request, so a test can make a POST fail
 * either before GitHub acts (`reply.status(502)`) or after it (`{ afterHandling: reply.reset() }`).
 *
 * @example
 * const github = await startFakeGitHub({
 *   faults: { 'POST /repos/:owner/:repo/issues/:number/comments': [{ afterHandling: reply.status(502) }] },
 * });
 * // ... run the code under test with baseUrl: github.url ...
 * expect(github.comments('octo-org', 'octo-repo', 1)).toHaveLength(2);
 * await github.close();
 */
export async function startFakeGitHub(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const now = options.now ?? (() => new Date());
  const appSlug = options.appSlug ?? defaultFakeGitHubOptions.appSlug;
  const botUser: FakeGitHubUser = { login: `${appSlug}[bot]`, type: 'Bot' };
  const state = new FakeGitHubState(options.issues ?? defaultFakeGitHubOptions.issues, now);
  const handlers = createFakeGitHubHandlers({ state, botUser, now });

  const faults = new Map<FakeGitHubRoute, FaultStep[]>();
  const injectFaults = (route: string, steps: readonly FaultStep[]): void => {
    const key = knownRoute(route);
    faults.set(key, [...(faults.get(key) ?? []), ...steps]);
  };
  for (const [route, steps] of Object.entries(options.faults ?? {})) injectFaults(route, steps);

  // Synchronous on purpose: the fault is taken and state changed the moment the request is
  // seen, so concurrent requests consume faults and comment ids in arrival order.
  const scriptFor =
    (route: FakeGitHubRoute, handler: FakeGitHubHandler): RouteScript =>
    (req) => {
      const fault = faults.get(route)?.shift() ?? options.randomFault?.(route);
      if (fault === undefined) return handler(req);
      if (!isAfterHandling(fault)) return fault;
      handler(req);
      return fault.afterHandling;
    };
  const script: Record<string, RouteScript> = {};
  for (const route of Object.values(fakeGitHubRoutes)) script[route] = scriptFor(route, handlers[route]);

  const upstreamOptions: { host?: string; port?: number } = {};
  if (options.host !== undefined) upstreamOptions.host = options.host;
  if (options.port !== undefined) upstreamOptions.port = options.port;
  const upstream = await startFakeUpstream(script, upstreamOptions);

  return {
    url: upstream.url,
    botUser,
    requests: upstream.requests,
    requestsTo: (route) => upstream.requestsTo(route),
    waitForRequests: (count, waitOptions) => upstream.waitForRequests(count, waitOptions),
    injectFaults,
    pendingFaults: (route) => faults.get(knownRoute(route))?.length ?? 0,
    issue: (owner, repo, number) => state.issue(owner, repo, number),
    comments: (owner, repo, number) => state.comments(owner, repo, number),
    addComment: (owner, repo, number, comment) => {
      const user = comment.user ?? defaultFakeCommenter;
      const stored = state.addComment(owner, repo, number, comment.body, user, comment.at);
      if (stored === undefined) throw new RangeError(`Fake GitHub has no issue ${owner}/${repo}#${number}`);
      return stored;
    },
    close: () => upstream.close(),
  };
}
