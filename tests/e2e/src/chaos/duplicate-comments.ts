import type { FakeGitHub } from '@runner/testkit';
import { issue } from '../harness.ts';

/**
 * The app's comments beyond the first on each of `numbers`: the scenarios give every job an issue of
 * its own, so any second comment on one is a side effect that happened twice.
 */
export function duplicateComments(github: FakeGitHub, numbers: readonly number[]): number {
  return numbers
    .map((number) => github.comments(issue.owner, issue.repo, number).filter((c) => c.user.type === 'Bot'))
    .reduce((sum, comments) => sum + Math.max(0, comments.length - 1), 0);
}
