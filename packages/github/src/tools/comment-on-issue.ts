import { z } from 'zod';
import { classifyGitHubError } from '../classify-github-error.ts';
import { callGitHub } from '../tool-call.ts';
import { issueParams } from './get-issue.ts';
import { commentMarker, hasMarker, idempotencyKey } from './idempotency.ts';
import { recordedSideEffect } from './recorded-side-effect.ts';
import type { IssueTool, IssueToolContext } from './tool.ts';
import { parseToolArguments, toolError, toParameters } from './tool-arguments.ts';

const name = 'comment_on_issue';

/** GitHub refuses comment bodies longer than this (HTTP 422). In characters. */
export const githubCommentMaxChars = 65_536;

/** Our marker is appended to every body, so the model has that much less. */
const markerAllowance = commentMarker(idempotencyKey('x'.repeat(64), 9_999, name)).length;
const maxBodyChars = githubCommentMaxChars - markerAllowance;

const schema = z.strictObject({
  body: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(maxBodyChars, `must be at most ${maxBodyChars} characters`),
});

/** How far back to look for our own comment after an ambiguous failure; wide, for clocks that disagree. */
const searchWindowMs = 10 * 60_000;

/**
 * `comment_on_issue { body }`: posts a comment on the job's issue, once. The result is recorded under the
 * call's idempotency key, and the comment carries the key as an invisible marker: a rerun of the job
 * returns the recorded comment, and after an ambiguous failure (a timeout, a reset, a 5xx: the POST may
 * have landed) the tool looks for its marker before posting again.
 */
export function commentOnIssueTool(context: IssueToolContext): IssueTool {
  return {
    mutates: true,
    definition: {
      type: 'function',
      function: {
        name,
        description: `Post a comment (GitHub Markdown, at most ${maxBodyChars} characters) on the issue or pull request this job is about.`,
        parameters: toParameters(schema),
      },
    },
    async run(rawArguments, callIndex) {
      const parsed = parseToolArguments(name, schema, rawArguments);
      if (!parsed.ok) return toolError(parsed.error);
      return recordedSideEffect(context, name, callIndex, async (key) => {
        const comment = await postOnce(context, key, parsed.value.body);
        return JSON.stringify({ commentId: String(comment.id), url: comment.html_url });
      });
    },
  };
}

interface PostedComment {
  id: number | bigint;
  html_url: string;
  body?: string | null | undefined;
}

async function postOnce(context: IssueToolContext, key: string, body: string): Promise<PostedComment> {
  const firstAttemptAtMs = (context.clock ?? Date).now();
  const sinceMs = Math.min(firstAttemptAtMs, context.earlierRunsSinceMs ?? firstAttemptAtMs) - searchWindowMs;
  // On a rerun with no record, an earlier run may have posted it and died before recording it.
  let mayHaveLanded = context.earlierRunsSinceMs !== undefined;
  return callGitHub(
    name,
    async (_attempt, signal) => {
      if (mayHaveLanded) {
        const existing = await findOurComment(context, key, sinceMs, signal);
        if (existing) {
          context.logger?.info(
            { layer: 'tool', target: name, idempotencyKey: key, commentId: String(existing.id) },
            'Found the comment an earlier attempt posted; not posting it again',
          );
          return existing;
        }
      }
      try {
        const response = await context.octokit.rest.issues.createComment({
          ...issueParams(context),
          body: body + commentMarker(key),
          request: { signal },
        });
        return response.data;
      } catch (error) {
        mayHaveLanded ||= isAmbiguous(error);
        throw error;
      }
    },
    context,
  );
}

/**
 * A failure after which the comment may exist: the request may have reached GitHub and only the answer
 * was lost. Rate limits and other 4xx are GitHub refusing it; a refused connection never reached it.
 */
function isAmbiguous(error: unknown): boolean {
  const { status, reason } = classifyGitHubError(error);
  if (status !== undefined) return status >= 500 || reason === 'truncated response';
  return reason !== 'ECONNREFUSED' && reason !== 'aborted';
}

async function findOurComment(
  context: IssueToolContext,
  key: string,
  sinceMs: number,
  signal: AbortSignal,
): Promise<PostedComment | undefined> {
  const since = new Date(sinceMs).toISOString();
  for (let page = 1; page <= 5; page++) {
    const { data } = await context.octokit.rest.issues.listComments({
      ...issueParams(context),
      since,
      per_page: 100,
      page,
      request: { signal },
    });
    const ours = data.find((comment) => hasMarker(comment.body, key));
    if (ours) return ours;
    if (data.length < 100) return undefined;
  }
  return undefined;
}
