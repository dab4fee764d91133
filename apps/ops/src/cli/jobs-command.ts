import {
  formatTimeline,
  type InspectableState,
  type JobDetails,
  type JobSummary,
  type LastError,
  type TimelineEntry,
} from '@runner/queue';
import { type CliContext, printJson, printLines } from './cli-context.ts';
import { CliError } from './cli-errors.ts';
import {
  type Cell,
  formatFields,
  formatRelativeTime,
  formatTable,
  stateCell,
  stateColour,
  truncate,
} from './format.ts';

/** `runner-ops jobs [--state S] [--limit N]`. */
export async function runJobs(
  context: CliContext,
  options: { state: InspectableState | undefined; limit: number },
): Promise<void> {
  const jobs = await context.inspector.jobs({
    limit: options.limit,
    ...(options.state === undefined ? {} : { state: options.state }),
  });
  if (context.json) {
    printJson(context, { state: options.state, limit: options.limit, jobs });
    return;
  }
  if (jobs.length === 0) {
    printLines(context, options.state === undefined ? 'No jobs.' : `No ${options.state} jobs.`);
    return;
  }
  printLines(context, renderJobsTable(jobs, context));
}

/** Jobs as a table; the last error gives up characters first when the terminal is narrow. */
export function renderJobsTable(
  jobs: readonly JobSummary[],
  context: Pick<CliContext, 'style' | 'nowMs' | 'columns'>,
): string[] {
  const nowMs = context.nowMs();
  const rows: Cell[][] = jobs.map((job) => [
    job.id,
    job.event,
    job.target,
    stateCell(context.style, job.state),
    String(job.attempts),
    String(job.retryCount),
    job.nextRunAtMs === undefined ? '-' : formatRelativeTime(job.nextRunAtMs, nowMs),
    job.lastError ?? '-',
  ]);
  return formatTable(
    context.style,
    ['ID', 'Event', 'Target', 'State', 'Attempts', 'Retries', 'Next run', 'Last error'],
    rows,
    { alignRight: [4, 5], shrink: 7, maxWidth: context.columns },
  );
}

/** `runner-ops job <id>`. */
export async function runJob(context: CliContext, id: string): Promise<void> {
  const job = await context.inspector.job(id);
  if (job === undefined) throw new CliError(`no job with id ${JSON.stringify(id)}`);
  const timelineLines = formatTimeline(job.timeline);
  if (context.json) printJson(context, jobJson(job, timelineLines));
  else printLines(context, renderJob(job, timelineLines, context));
}

/** The full details with every optional key present (as null), plus the timeline as the job view shows it. */
export function jobJson(job: JobDetails, timelineLines: readonly string[]) {
  return {
    ...job,
    lastErrorDetails: job.lastErrorDetails === undefined ? null : lastErrorJson(job.lastErrorDetails),
    timeline: job.timeline.map(timelineEntryJson),
    timelineLines,
  };
}

function lastErrorJson(error: LastError) {
  return {
    message: error.message,
    errorClass: error.errorClass,
    code: error.code ?? null,
    status: error.status ?? null,
    layer: error.layer ?? null,
    target: error.target ?? null,
    atMs: error.atMs,
  };
}

function timelineEntryJson(entry: TimelineEntry) {
  return {
    kind: entry.kind,
    layer: entry.layer,
    target: entry.target,
    atMs: entry.atMs,
    attempt: entry.attempt ?? null,
    maxAttempts: entry.maxAttempts ?? null,
    delayMs: entry.delayMs ?? null,
    reason: entry.reason ?? null,
    status: entry.status ?? null,
  };
}

/** The human view of one job: summary, last error, data, timeline. */
export function renderJob(
  job: JobDetails,
  timelineLines: readonly string[],
  context: Pick<CliContext, 'style' | 'nowMs' | 'columns'>,
): string[] {
  const { style } = context;
  const nowMs = context.nowMs();
  const summary: Array<readonly [string, string]> = [
    ['Job', job.id],
    ['Event', job.event],
    ['Target', job.target],
    ['State', stateColour(style, job.state)(job.state)],
    ['Status', job.status ?? '-'],
    ['Attempts', String(job.attempts)],
    ['Retries', String(job.retryCount)],
    ['Created', `${formatRelativeTime(job.createdAtMs, nowMs)} (${new Date(job.createdAtMs).toISOString()})`],
    ['Next run', job.nextRunAtMs === undefined ? '-' : formatRelativeTime(job.nextRunAtMs, nowMs)],
  ];
  if (job.result !== undefined) summary.push(['Result', truncate(JSON.stringify(job.result), 200)]);
  const error = job.lastErrorDetails;
  const errorFields: Array<readonly [string, string]> =
    error === undefined
      ? [['Message', job.failedReason ?? 'none']]
      : [
          ['Message', error.message.split('\n', 1)[0] ?? ''],
          ['Class', error.errorClass],
          ['Code', error.code ?? '-'],
          ['Status', error.status === undefined ? '-' : String(error.status)],
          ['Layer', error.layer ?? '-'],
          ['Target', error.target ?? '-'],
          ['When', formatRelativeTime(error.atMs, nowMs)],
        ];
  // One label width for both blocks, so their values line up in one column.
  const width = Math.max(...[...summary, ...errorFields].map(([label]) => label.length));
  return [
    ...formatFields(style, summary, width),
    '',
    style.bold('Last error'),
    ...formatFields(style, errorFields, width),
    '',
    style.bold('Data'),
    ...JSON.stringify(job.data, null, 2).split('\n'),
    '',
    style.bold('Retry timeline'),
    ...(timelineLines.length === 0 ? ['none recorded'] : timelineLines),
  ];
}
