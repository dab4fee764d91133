import type { FakeGitHubState, FakeGitHubUser } from './fake-github-state.ts';
import { githubTimestamp, issueHtmlUrl } from './fake-github-state.ts';
import { reply, type Step } from './fake-upstream-steps.ts';
import type { RecordedRequest } from './recorded-request.ts';

/** The REST routes the fake GitHub serves, as fake-upstream route keys (also the fault keys). */
export const fakeGitHubRoutes = {
  createInstallationToken: 'POST /app/installations/:id/access_tokens',
  getIssue: 'GET /repos/:owner/:repo/issues/:number',
  listComments: 'GET /repos/:owner/:repo/issues/:number/comments',
  createComment: 'POST /repos/:owner/:repo/issues/:number/comments',
  addLabels: 'POST /repos/:owner/:repo/issues/:number/labels',
} as const;

/** One of the {@link fakeGitHubRoutes} keys. */
export type FakeGitHubRoute = (typeof fakeGitHubRoutes)[keyof typeof fakeGitHubRoutes];

/** GitHub's limits for `GET .../comments` pagination and comment bodies. */
export const fakeGitHubLimits = {
  defaultPerPage: 30,
  maxPerPage: 100,
  /** Characters (code points), as GitHub counts them. */
  maxCommentBodyLength: 65_536,
  tokenLifetimeMs: 60 * 60_000,
} as const;

/** Computes the (unfaulted) response to one request, changing state as GitHub would. */
export type FakeGitHubHandler = (req: RecordedRequest) => Step;

interface IssueRef {
  readonly owner: string;
  readonly repo: string;
  readonly number: number;
}

const docsUrl = 'https://docs.github.com/rest';

function notFound(): Step {
  return reply.json(404, { message: 'Not Found', documentation_url: docsUrl });
}

function validationFailed(errors: readonly Record<string, string>[]): Step {
  return reply.json(422, { message: 'Validation Failed', errors, documentation_url: docsUrl });
}

function issueRef(req: RecordedRequest): IssueRef | undefined {
  const { owner, repo, number } = req.params;
  // `/issues/abc` is a 404 on GitHub too, not a validation error.
  if (owner === undefined || repo === undefined || number === undefined || !/^\d+$/.test(number)) {
    return undefined;
  }
  return { owner, repo, number: Number(number) };
}

type Posted = { readonly ok: true; readonly json: unknown } | { readonly ok: false; readonly step: Step };

/** The posted JSON (`{}` for no body), or a 400 like GitHub's for a body that is not JSON. */
function posted(req: RecordedRequest): Posted {
  if (req.body.trim() === '') return { ok: true, json: {} };
  if (req.json !== undefined) return { ok: true, json: req.json };
  return {
    ok: false,
    step: reply.json(400, { message: 'Problems parsing JSON', documentation_url: docsUrl }),
  };
}

function field(json: unknown, name: string): unknown {
  return typeof json === 'object' && json !== null ? (json as Record<string, unknown>)[name] : undefined;
}

/** A positive integer query parameter; GitHub falls back to the default for anything else. */
function positiveInt(value: string | null, fallback: number): number {
  const parsed = value === null ? Number.NaN : Number(value);
  return Number.isInteger(parsed) && parsed >= 1 ? parsed : fallback;
}

/** GitHub's `link` header (first/prev/next/last) so `octokit.paginate` can walk the pages. */
function linkHeader(req: RecordedRequest, page: number, lastPage: number): string | undefined {
  if (lastPage <= 1) return undefined;
  const at = (target: number, rel: string): string => {
    const query = new URLSearchParams(req.query);
    query.set('page', String(target));
    return `<http://${req.headers.host ?? 'localhost'}${req.path}?${query.toString()}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page > 1) links.push(at(page - 1, 'prev'));
  if (page < lastPage) links.push(at(page + 1, 'next'));
  links.push(at(lastPage, 'last'));
  if (page > 1) links.push(at(1, 'first'));
  return links.join(', ');
}

function labelsJson(labels: readonly string[]): { name: string }[] {
  return labels.map((name) => ({ name }));
}

/** Context the handlers need besides the state. */
export interface FakeGitHubHandlerContext {
  readonly state: FakeGitHubState;
  /** The author of comments posted through the API. */
  readonly botUser: FakeGitHubUser;
  readonly now: () => Date;
}

/** The normal (fault-free) behaviour of every route in {@link fakeGitHubRoutes}. */
export function createFakeGitHubHandlers(
  context: FakeGitHubHandlerContext,
): Readonly<Record<FakeGitHubRoute, FakeGitHubHandler>> {
  const { state, botUser, now } = context;
  const tokensMinted = new Map<string, number>();

  const createInstallationToken: FakeGitHubHandler = (req) => {
    const id = req.params.id ?? '0';
    const n = (tokensMinted.get(id) ?? 0) + 1;
    tokensMinted.set(id, n);
    return reply.json(201, {
      token: `ghs_fake_${id}_${n}`,
      expires_at: githubTimestamp(new Date(now().getTime() + fakeGitHubLimits.tokenLifetimeMs)),
      permissions: { issues: 'write' },
      repository_selection: 'all',
    });
  };

  const getIssue: FakeGitHubHandler = (req) => {
    const ref = issueRef(req);
    const issue = ref && state.issue(ref.owner, ref.repo, ref.number);
    if (ref === undefined || issue === undefined) return notFound();
    return reply.json(200, {
      number: issue.number,
      title: issue.title,
      body: issue.body,
      state: issue.state,
      labels: labelsJson(issue.labels),
      user: issue.user,
      comments: state.commentCount(ref.owner, ref.repo, ref.number) ?? 0,
      html_url: issueHtmlUrl(issue),
    });
  };

  const listComments: FakeGitHubHandler = (req) => {
    const ref = issueRef(req);
    if (ref === undefined || state.issue(ref.owner, ref.repo, ref.number) === undefined) return notFound();
    const since = req.query.get('since');
    const sinceMs = since === null ? undefined : Date.parse(since);
    if (sinceMs !== undefined && Number.isNaN(sinceMs)) {
      return validationFailed([{ resource: 'IssueComment', code: 'invalid', field: 'since' }]);
    }
    const perPage = Math.min(
      positiveInt(req.query.get('per_page'), fakeGitHubLimits.defaultPerPage),
      fakeGitHubLimits.maxPerPage,
    );
    const page = positiveInt(req.query.get('page'), 1);
    // "At or after", as GitHub documents `since`: the comment at exactly `since` comes back again.
    const matching = state
      .comments(ref.owner, ref.repo, ref.number)
      .filter((comment) => sinceMs === undefined || Date.parse(comment.updated_at) >= sinceMs)
      .sort((a, b) => a.id - b.id);
    const lastPage = Math.max(1, Math.ceil(matching.length / perPage));
    const link = linkHeader(req, page, lastPage);
    const items = matching.slice((page - 1) * perPage, page * perPage);
    return reply.json(200, items, link === undefined ? {} : { link });
  };

  const createComment: FakeGitHubHandler = (req) => {
    const ref = issueRef(req);
    if (ref === undefined || state.issue(ref.owner, ref.repo, ref.number) === undefined) return notFound();
    const request = posted(req);
    if (!request.ok) return request.step;
    const body = field(request.json, 'body');
    if (typeof body !== 'string' || body.trim() === '') {
      return validationFailed([{ resource: 'IssueComment', code: 'missing_field', field: 'body' }]);
    }
    if ([...body].length > fakeGitHubLimits.maxCommentBodyLength) {
      return validationFailed([
        {
          resource: 'IssueComment',
          code: 'custom',
          field: 'body',
          message: `body is too long (maximum is ${fakeGitHubLimits.maxCommentBodyLength} characters)`,
        },
      ]);
    }
    return reply.json(201, state.addComment(ref.owner, ref.repo, ref.number, body, botUser));
  };

  const addLabels: FakeGitHubHandler = (req) => {
    const ref = issueRef(req);
    if (ref === undefined || state.issue(ref.owner, ref.repo, ref.number) === undefined) return notFound();
    const request = posted(req);
    if (!request.ok) return request.step;
    // GitHub also takes a bare array and `{ name }` objects; accept what Octokit users might send.
    const raw = Array.isArray(request.json) ? request.json : field(request.json, 'labels');
    const names = Array.isArray(raw)
      ? raw.map((label: unknown) => (typeof label === 'string' ? label : field(label, 'name')))
      : undefined;
    if (
      names === undefined ||
      !names.every((name): name is string => typeof name === 'string' && name !== '')
    ) {
      return validationFailed([{ resource: 'Label', code: 'invalid', field: 'labels' }]);
    }
    return reply.json(200, labelsJson(state.addLabels(ref.owner, ref.repo, ref.number, names) ?? []));
  };

  return {
    [fakeGitHubRoutes.createInstallationToken]: createInstallationToken,
    [fakeGitHubRoutes.getIssue]: getIssue,
    [fakeGitHubRoutes.listComments]: listComments,
    [fakeGitHubRoutes.createComment]: createComment,
    [fakeGitHubRoutes.addLabels]: addLabels,
  };
}
