import { describe, expect, it } from 'vitest';
import { taskCommentMaxChars, taskPrompt } from './task-prompt.ts';

const base = { repository: 'octo-org/octo-repo', issueNumber: 1, sender: 'octocat' } as const;

describe('taskPrompt', () => {
  it('says an issue was opened, where and by whom', () => {
    expect(taskPrompt({ ...base, event: 'issues.opened' })).toBe(
      'Issue #1 in octo-org/octo-repo was just opened by octocat.',
    );
  });

  it('quotes the comment that mentioned the app', () => {
    const prompt = taskPrompt({
      ...base,
      event: 'issue_comment.created',
      appSlug: 'runner-app',
      comment: 'Can you triage this?\n\nThanks',
    });
    expect(prompt).toBe(
      'octocat mentioned @runner-app in a comment on issue #1 in octo-org/octo-repo:\n\n> Can you triage this?\n>\n> Thanks',
    );
  });

  it('says "you" without an app slug, and leaves out an empty comment', () => {
    expect(taskPrompt({ ...base, event: 'issue_comment.created', comment: '  ' })).toBe(
      'octocat mentioned you in a comment on issue #1 in octo-org/octo-repo.',
    );
  });

  it('cuts a very long comment, saying how much is left out', () => {
    const prompt = taskPrompt({ ...base, event: 'issue_comment.created', comment: 'x'.repeat(10_000) });
    expect(prompt).toContain(`[... ${10_000 - taskCommentMaxChars} more characters]`);
    expect(prompt.length).toBeLessThan(taskCommentMaxChars + 200);
  });
});
