/** What a job is about: the webhook event that started it, reduced to what the model needs. */
export interface AgentTask {
  /** `owner/name`. */
  repository: string;
  /** Issue or pull-request number. */
  issueNumber: number;
  event: 'issues.opened' | 'issue_comment.created';
  /** Login of the user whose action started the job. */
  sender: string;
  /** The comment's text, for `issue_comment.created`. */
  comment?: string;
  /** The GitHub App's slug, as users mention it (`@runner-app`). */
  appSlug?: string;
}

/** Longest comment quoted in the task, in characters; the model can read the rest with `get_issue`. */
export const taskCommentMaxChars = 8_000;

/**
 * The first user message of a run: what happened, on which issue, by whom.
 * @example "Issue #1 in octo-org/octo-repo was just opened by octocat."
 */
export function taskPrompt(task: AgentTask): string {
  const issue = `issue #${task.issueNumber} in ${task.repository}`;
  switch (task.event) {
    case 'issues.opened':
      return `Issue #${task.issueNumber} in ${task.repository} was just opened by ${task.sender}.`;
    case 'issue_comment.created': {
      const whom = task.appSlug === undefined ? 'you' : `@${task.appSlug}`;
      const comment = task.comment?.trim() ?? '';
      if (comment === '') return `${task.sender} mentioned ${whom} in a comment on ${issue}.`;
      return `${task.sender} mentioned ${whom} in a comment on ${issue}:\n\n${quote(trim(comment))}`;
    }
  }
}

function trim(text: string): string {
  return text.length <= taskCommentMaxChars
    ? text
    : `${text.slice(0, taskCommentMaxChars)}\n[... ${text.length - taskCommentMaxChars} more characters]`;
}

/** As a Markdown block quote, so the user's text stands apart from ours. */
function quote(text: string): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? '>' : `> ${line}`))
    .join('\n');
}
