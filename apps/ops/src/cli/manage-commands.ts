import { agentQueueName } from '@runner/queue';
import { type CliContext, printJson, printLines } from './cli-context.ts';
import { CliError } from './cli-errors.ts';
import type { CleanableState } from './command-line.ts';

/** `runner-ops retry <id>`: a failed or dead-lettered job goes back to the queue, history kept. */
export async function runRetry(context: CliContext, id: string): Promise<void> {
  const outcome = await context.inspector.retry(id);
  switch (outcome) {
    case 'not-found':
      throw new CliError(`no job with id ${JSON.stringify(id)}`);
    case 'not-failed': {
      const state = (await context.inspector.job(id))?.state ?? 'gone';
      throw new CliError(
        `job ${JSON.stringify(id)} is ${state}, not failed; only failed or dead-lettered jobs can be retried`,
      );
    }
    case 'retried':
      if (context.json) printJson(context, { id, outcome });
      else printLines(context, `Put job ${id} back in the queue; its retry history is kept.`);
  }
}

/** `runner-ops retry --failed [--limit N]`. */
export async function runRetryFailed(context: CliContext, limit: number): Promise<void> {
  const retried = await context.inspector.retryFailed(limit);
  if (context.json) {
    printJson(context, { retried });
    return;
  }
  if (retried.length === 0) {
    printLines(context, 'No failed jobs to put back.');
    return;
  }
  const jobs = retried.length === 1 ? '1 failed job' : `${retried.length} failed jobs`;
  printLines(context, `Put ${jobs} back in the queue: ${retried.join(', ')}`);
}

/** `runner-ops remove <id>`. */
export async function runRemove(context: CliContext, id: string): Promise<void> {
  // BullMQ refuses to remove a job a worker holds, with an error naming the lock; say what to do instead.
  const job = await context.inspector.job(id);
  if (job?.state === 'active') {
    throw new CliError(`job ${JSON.stringify(id)} is active; wait until it finishes, then remove it`);
  }
  if (job === undefined || !(await context.inspector.remove(id))) {
    throw new CliError(`no job with id ${JSON.stringify(id)}`);
  }
  if (context.json) printJson(context, { id, removed: true });
  else printLines(context, `Removed job ${id} and its retry history.`);
}

/** `runner-ops pause` / `runner-ops resume`. */
export async function runPause(context: CliContext, pause: boolean): Promise<void> {
  if (pause) await context.inspector.pause();
  else await context.inspector.resume();
  if (context.json) {
    printJson(context, { queue: agentQueueName, isPaused: pause });
    return;
  }
  printLines(
    context,
    pause
      ? `Paused ${agentQueueName}: active jobs finish, no new job starts until "runner-ops resume".`
      : `Resumed ${agentQueueName}: workers take jobs again.`,
  );
}

/** `runner-ops clean --state completed|failed --older-than D [--limit N]`. */
export async function runClean(
  context: CliContext,
  options: { state: CleanableState; olderThan: string; olderThanMs: number; limit: number },
): Promise<void> {
  const removed = await context.inspector.clean(options.state, options.olderThanMs, options.limit);
  if (context.json) {
    printJson(context, {
      state: options.state,
      olderThan: options.olderThan,
      olderThanMs: options.olderThanMs,
      removed,
    });
    return;
  }
  const jobs = removed === 1 ? 'job' : 'jobs';
  printLines(context, `Removed ${removed} ${options.state} ${jobs} older than ${options.olderThan}.`);
}
