/** A GitHub account as it appears on issues and comments. */
export interface FakeGitHubUser {
  readonly login: string;
  readonly type: 'User' | 'Bot' | 'Organization';
}

/** An issue comment, in the JSON shape GitHub returns (snake_case timestamps, second precision). */
export interface FakeGitHubComment {
  readonly id: number;
  readonly body: string;
  readonly user: FakeGitHubUser;
  readonly created_at: string;
  readonly updated_at: string;
  readonly html_url: string;
}

/** An issue as the fake GitHub stores it; `labels` are plain names. */
export interface FakeGitHubIssue {
  readonly owner: string;
  readonly repo: string;
  readonly number: number;
  readonly title: string;
  readonly body: string | null;
  readonly state: 'open' | 'closed';
  readonly labels: readonly string[];
  readonly user: FakeGitHubUser;
}

/** A comment to seed; see {@link FakeIssueSeed}. */
export interface FakeCommentSeed {
  readonly body: string;
  /** Default: `{ login: 'monalisa', type: 'User' }`, a human. */
  readonly user?: FakeGitHubUser;
  /**
   * `created_at` and `updated_at`. Default: for a seed, one hour before the fake started; for
   * `FakeGitHub.addComment`, now.
   */
  readonly at?: Date;
}

/** An issue to seed the fake GitHub with. */
export interface FakeIssueSeed {
  readonly owner: string;
  readonly repo: string;
  readonly number: number;
  readonly title: string;
  readonly body?: string | null;
  /** Default `'open'`. */
  readonly state?: 'open' | 'closed';
  readonly labels?: readonly string[];
  /** Default `{ login: 'octocat', type: 'User' }`. */
  readonly user?: FakeGitHubUser;
  readonly comments?: readonly FakeCommentSeed[];
}

const octocat: FakeGitHubUser = { login: 'octocat', type: 'User' };
/** The human who comments when a seed or `addComment` names no author. */
export const defaultFakeCommenter: FakeGitHubUser = { login: 'monalisa', type: 'User' };

/** The issue the fake GitHub holds when `options.issues` is not given. */
export const defaultFakeIssues: readonly FakeIssueSeed[] = [
  {
    owner: 'octo-org',
    repo: 'octo-repo',
    number: 1,
    title: 'Crash on start',
    body: 'Stack trace: ...',
    state: 'open',
    labels: ['bug'],
    user: octocat,
    comments: [{ body: 'I can reproduce this on the latest release.', user: defaultFakeCommenter }],
  },
];

/** Comment ids start here, so they never collide with issue numbers in a test's assertions. */
export const firstFakeCommentId = 1000;

// Seeded comments predate the fake, so a `since` of "now" excludes them, as it would on GitHub.
const seedAgeMs = 60 * 60_000;

/** GitHub's timestamp format: ISO 8601 UTC without milliseconds. */
export function githubTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

interface StoredIssue {
  readonly owner: string;
  readonly repo: string;
  readonly number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  labels: string[];
  user: FakeGitHubUser;
  readonly comments: FakeGitHubComment[];
}

// GitHub treats owner and repository names case-insensitively; so does the key.
function issueKey(owner: string, repo: string, number: number): string {
  return `${owner}/${repo}#${number}`.toLowerCase();
}

function copyIssue(issue: StoredIssue): FakeGitHubIssue {
  const { comments: _comments, ...rest } = issue;
  return { ...rest, labels: [...issue.labels], user: { ...issue.user } };
}

function copyComment(comment: FakeGitHubComment): FakeGitHubComment {
  return { ...comment, user: { ...comment.user } };
}

/**
 * The mutable state behind the fake GitHub: issues keyed by `owner/repo#number` and their
 * comments. Getters return copies, so a test cannot change state except through the API.
 */
export class FakeGitHubState {
  readonly #issues = new Map<string, StoredIssue>();
  readonly #now: () => Date;
  #nextCommentId = firstFakeCommentId;

  constructor(seeds: readonly FakeIssueSeed[], now: () => Date) {
    this.#now = now;
    const seededAt = new Date(now().getTime() - seedAgeMs);
    for (const seed of seeds) {
      const key = issueKey(seed.owner, seed.repo, seed.number);
      if (this.#issues.has(key)) throw new TypeError(`startFakeGitHub: issue ${key} is seeded twice`);
      const issue: StoredIssue = {
        owner: seed.owner,
        repo: seed.repo,
        number: seed.number,
        title: seed.title,
        body: seed.body ?? null,
        state: seed.state ?? 'open',
        labels: [],
        user: seed.user ?? octocat,
        comments: [],
      };
      this.#issues.set(key, issue);
      addUniqueLabels(issue, seed.labels ?? []);
      for (const comment of seed.comments ?? []) {
        this.#append(issue, comment.body, comment.user ?? defaultFakeCommenter, comment.at ?? seededAt);
      }
    }
  }

  /** A copy of the issue, or `undefined` if there is none. */
  issue(owner: string, repo: string, number: number): FakeGitHubIssue | undefined {
    const issue = this.#find(owner, repo, number);
    return issue === undefined ? undefined : copyIssue(issue);
  }

  /** Copies of the issue's comments by id ascending; empty for an unknown issue. */
  comments(owner: string, repo: string, number: number): readonly FakeGitHubComment[] {
    return (this.#find(owner, repo, number)?.comments ?? []).map(copyComment);
  }

  /** Comment count, as the issue's `comments` field reports it; `undefined` for an unknown issue. */
  commentCount(owner: string, repo: string, number: number): number | undefined {
    return this.#find(owner, repo, number)?.comments.length;
  }

  /** Stores a comment by `user`, made `at` (default now); `undefined` if the issue does not exist. */
  addComment(
    owner: string,
    repo: string,
    number: number,
    body: string,
    user: FakeGitHubUser,
    at?: Date,
  ): FakeGitHubComment | undefined {
    const issue = this.#find(owner, repo, number);
    return issue === undefined ? undefined : copyComment(this.#append(issue, body, user, at ?? this.#now()));
  }

  /**
   * Adds labels not already on the issue (compared case-insensitively, as GitHub does) and
   * returns all of its labels; `undefined` if the issue does not exist.
   */
  addLabels(
    owner: string,
    repo: string,
    number: number,
    labels: readonly string[],
  ): readonly string[] | undefined {
    const issue = this.#find(owner, repo, number);
    if (issue === undefined) return undefined;
    addUniqueLabels(issue, labels);
    return [...issue.labels];
  }

  #find(owner: string, repo: string, number: number): StoredIssue | undefined {
    return this.#issues.get(issueKey(owner, repo, number));
  }

  #append(issue: StoredIssue, body: string, user: FakeGitHubUser, at: Date): FakeGitHubComment {
    const id = this.#nextCommentId;
    this.#nextCommentId += 1;
    const timestamp = githubTimestamp(at);
    const comment: FakeGitHubComment = {
      id,
      body,
      user: { ...user },
      created_at: timestamp,
      updated_at: timestamp,
      html_url: `${issueHtmlUrl(issue)}#issuecomment-${id}`,
    };
    issue.comments.push(comment);
    return comment;
  }
}

function addUniqueLabels(issue: StoredIssue, labels: readonly string[]): void {
  for (const label of labels) {
    const lower = label.toLowerCase();
    if (!issue.labels.some((existing) => existing.toLowerCase() === lower)) issue.labels.push(label);
  }
}

/** The issue's page on github.com, as GitHub puts in `html_url`. */
export function issueHtmlUrl(issue: { owner: string; repo: string; number: number }): string {
  return `https://github.com/${issue.owner}/${issue.repo}/issues/${issue.number}`;
}
