/** Exit codes of `runner-ops`, as scripts see them. */
export const exitCodes = {
  ok: 0,
  /** Something could not be done: no such job, Redis unreachable, bad configuration. */
  failed: 1,
  /** The command line itself is wrong: unknown command or flag, a missing or malformed value. */
  usage: 2,
  /** Interrupted (Ctrl-C) before a one-shot command finished, as shells report SIGINT. */
  interrupted: 130,
} as const;

/**
 * A mistake in the command line. Reported as one line with a pointer to `--help`, exit code 2; it never
 * reaches Redis, so a typo costs nothing.
 */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitCode = exitCodes.usage;
}

/**
 * A request that cannot be carried out (no such job, a job in the wrong state, Redis unreachable). Its
 * message is the whole report: one line, exit code 1, no stack trace.
 */
export class CliError extends Error {
  override name = 'CliError';
  readonly exitCode: number = exitCodes.failed;
}

/**
 * A programming error (a bug in this CLI, not a user's mistake nor an outage): its stack trace is worth
 * showing. Everything else (Redis replies, lost connections, BullMQ refusals) is reported in one line.
 */
export function isBug(error: unknown): boolean {
  return (
    error instanceof TypeError ||
    error instanceof RangeError ||
    error instanceof ReferenceError ||
    error instanceof SyntaxError
  );
}

/** The one line to show for an error that is not a bug. */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n', 1)[0] ?? message;
}
