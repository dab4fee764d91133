import { inspectableStates } from '@runner/queue';
import { type CommandName, commandNames, defaultCommandLineOptions } from './command-line.ts';

const environment = `Environment:
  REDIS_URL      the queue's Redis (default redis://127.0.0.1:6379); read from .env at the repository root too
  QUEUE_PREFIX   the queue's key prefix (default runner)
  NO_COLOR       set to turn colour off; colour is only ever used on a terminal`;

const exitCodes =
  'Exit codes: 0 done, 1 failed (no such job, Redis unreachable, bad configuration), 2 bad command line,\n130 interrupted.';

const summaries: Record<CommandName, [usage: string, summary: string]> = {
  status: ['status', 'counts per state, workers, circuits, retries in the last hour'],
  jobs: ['jobs [--state S] [--limit N]', 'list jobs, newest first'],
  job: ['job <id>', 'one job: its data, last error and retry timeline'],
  retry: ['retry <id> | retry --failed [--limit N]', 'put failed or dead-lettered jobs back, history kept'],
  remove: ['remove <id>', 'remove a job and its retry history'],
  pause: ['pause', 'stop workers taking new jobs (active ones finish)'],
  resume: ['resume', 'let workers take jobs again'],
  clean: ['clean --state completed|failed --older-than D', 'remove finished jobs older than D'],
  watch: ['watch', 'live status and active jobs, every second; q or Ctrl-C quits'],
  help: ['help [command]', 'this text, or one command’s'],
};

const details: Record<CommandName, string> = {
  status: `Shows how many jobs are in each state (waiting, active, delayed, completed, failed, dead-lettered,
paused), whether the queue is paused, how many workers are connected, each upstream's circuit as the
workers last reported it, fleet-wide cooldowns, and the retries of the last hour by layer.`,
  jobs: `Lists jobs, newest first: id, event, repo#number, state, runs started, retries, next run (delayed
jobs) and last error.

Options:
  --state S   only jobs in state S: ${inspectableStates.join(', ')}
  --limit N   at most N jobs (default ${defaultCommandLineOptions.jobsLimit})`,
  job: `Shows one job: state, live status, retries, last error (class, code, status, layer, target), the
job's data and its retry timeline across the three layers, e.g.
  T=0.0s Job starts (attempt 1/6)
  T=1s LLM API call failed (429), retrying in 1.0s (attempt 2/6)
With --json: the job's full details plus timelineLines.`,
  retry: `Puts a failed or dead-lettered job back in the queue. Its retry history stays, and it gets a fresh
set of requeues and work time.

Options:
  --failed    put back every failed job (oldest failures first) instead of one
  --limit N   with --failed: at most N jobs (default ${defaultCommandLineOptions.retryFailedLimit})`,
  remove: 'Removes a job from the queue together with its retry history. An active job cannot be removed.',
  pause: `Pauses the queue for every worker: active jobs finish, no new job starts until resume. Jobs
keep arriving and wait.`,
  resume: 'Resumes a paused queue.',
  clean: `Removes completed or failed jobs (and their retry history) that finished more than D ago.

Options:
  --state completed|failed   which finished jobs (required)
  --older-than D             a duration such as 30s, 15m, 1h, 7d or 1h30m; 0s means all (required)
  --limit N                  at most N jobs in one run (default ${defaultCommandLineOptions.cleanLimit})`,
  watch: `Redraws status and the active jobs with their live status line ("retrying in 2.0s (attempt 3/5)")
every second until q or Ctrl-C. With --json it prints one JSON document per line instead, one per
second: {"atMs", "status", "active"}.`,
  help: 'Shows the usage of runner-ops or of one command.',
};

/** `runner-ops --help`: every command in one screen. */
export function mainUsage(): string {
  const width = Math.max(...commandNames.map((name) => summaries[name][0].length));
  const lines = commandNames.map((name) => `  ${summaries[name][0].padEnd(width)}  ${summaries[name][1]}`);
  return `Usage: runner-ops <command> [options]

Inspect and steer the agent job queue in Redis.

Commands:
${lines.join('\n')}

Options for every command:
  --json      machine-readable output: one JSON document on stdout, with stable keys
  -h, --help  usage of the command

${environment}

${exitCodes}
`;
}

/** `runner-ops <command> --help`. */
export function commandUsage(name: CommandName): string {
  return `Usage: runner-ops ${summaries[name][0]} [--json]

${details[name]}

${exitCodes}
`;
}
