import { z } from 'zod';
import { callGitHub } from '../tool-call.ts';
import { withoutMarker } from './idempotency.ts';
import type { IssueTool, IssueToolContext } from './tool.ts';
import { parseToolArguments, toolError, toParameters } from './tool-arguments.ts';
import { toolFailure } from './tool-failure.ts';

const name = 'get_issue';
const schema = z.strictObject({});

/** Enough context for a model without flooding it: the sizes are per text, in characters. */
export const getIssueLimits = { comments: 20, bodyChars: 8_000, commentChars: 2_000 } as const;

/** `get_issue {}`: the job's issue with its last comments. Reads are retried but never queued or recorded. */
export function getIssueTool(context: IssueToolContext): IssueTool {
  return {
    mutates: false,
    definition: {
      type: 'function',
      function: {
        name,
        description:
          'Read the issue (or pull request) this job is about: title, body, state, labels, author and its last 20 comments.',
        parameters: toParameters(schema),
      },
    },
    async run(rawArguments) {
      const parsed = parseToolArguments(name, schema, rawArguments);
      if (!parsed.ok) return toolError(parsed.error);
      const { octokit, issue } = context;
      try {
        const found = await callGitHub(
          name,
          (_attempt, signal) => octokit.rest.issues.get({ ...issueParams(context), request: { signal } }),
          context,
        );
        const comments = await lastComments(context, found.data.comments);
        return JSON.stringify({
          number: issue.number,
          title: found.data.title,
          state: found.data.state,
          author: found.data.user?.login ?? null,
          labels: found.data.labels.map((label) => (typeof label === 'string' ? label : label.name)),
          body: trim(found.data.body ?? '', getIssueLimits.bodyChars),
          comments: comments.map((comment) => ({
            author: comment.user?.login ?? null,
            createdAt: comment.created_at,
            body: trim(withoutMarker(comment.body ?? ''), getIssueLimits.commentChars),
          })),
        });
      } catch (error) {
        return toolFailure(error);
      }
    },
  };
}

/** GitHub lists comments oldest first; the last 20 sit on the last page, or across the last two. */
async function lastComments(context: IssueToolContext, total: number) {
  const perPage = 100;
  const lastPage = Math.max(1, Math.ceil(total / perPage));
  const pages =
    lastPage > 1 && total % perPage < getIssueLimits.comments ? [lastPage - 1, lastPage] : [lastPage];
  const comments = [];
  for (const page of pages) {
    const response = await callGitHub(
      name,
      (_attempt, signal) =>
        context.octokit.rest.issues.listComments({
          ...issueParams(context),
          per_page: perPage,
          page,
          request: { signal },
        }),
      context,
    );
    comments.push(...response.data);
  }
  return comments.slice(-getIssueLimits.comments);
}

export function issueParams({ issue }: IssueToolContext) {
  return { owner: issue.owner, repo: issue.repo, issue_number: issue.number };
}

function trim(text: string, maxChars: number): string {
  return text.length <= maxChars
    ? text
    : `${text.slice(0, maxChars)}\n[... ${text.length - maxChars} more characters]`;
}
