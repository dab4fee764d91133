import { formatTimeline, type JobDetails, type JobSummary, type QueueStatus } from '@runner/queue';
import { escapeMarkup } from './escape-markup.ts';

/** Where the queue dashboard (bull-board) is mounted. */
export const dashboardPath = '/admin/queues';

/** The page of one job's retry timeline; `.svg` and `.json` after the id give the picture and the data. */
export function jobPagePath(id: string): string {
  return `/jobs/${encodeURIComponent(id)}`;
}

/** States in which a job may still change: its page refreshes itself and its timeline runs to now. */
export function isUnfinished(state: string): boolean {
  return state === 'active' || state === 'waiting' || state === 'delayed' || state === 'paused';
}

/** Seconds between refreshes of an unfinished job's page. */
const refreshSeconds = 5;

const style = `
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 0 auto; max-width: 1000px; padding: 0 16px 32px; color: #212529; }
nav { padding: 12px 0; border-bottom: 1px solid #dee2e6; margin-bottom: 16px; }
nav a { margin-right: 16px; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 3px 12px 3px 0; vertical-align: top; }
th { color: #495057; font-weight: 600; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; }
ol.timeline { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; padding-left: 24px; }
figure { margin: 16px 0; overflow-x: auto; }
.state-failed, .state-dead-lettered { color: #c92a2a; }
.state-completed { color: #2b8a3e; }
`;

/** One job: its summary, the timeline picture, the timeline as sentences, and links to the raw forms. */
export function renderJobPage(job: JobDetails, svg: string): string {
  const rows: Array<[string, string | undefined]> = [
    ['State', job.state],
    ['Event', job.event],
    ['Issue', job.target],
    ['Runs started', String(job.attempts)],
    ['Requeues and delays', String(job.retryCount)],
    ['Now', job.status],
    ['Next run', job.nextRunAtMs === undefined ? undefined : new Date(job.nextRunAtMs).toISOString()],
    ['Last error', job.lastError],
    ['Created', new Date(job.createdAtMs).toISOString()],
  ];
  const lines = formatTimeline(job.timeline);
  const id = escapeMarkup(job.id);
  const path = escapeMarkup(jobPagePath(job.id));
  return page(`Job ${job.id}`, {
    refresh: isUnfinished(job.state),
    body: `
<h1>Job <code>${id}</code> <span class="state-${escapeMarkup(job.state)}">${escapeMarkup(job.state)}</span></h1>
<table>
${rows
  .filter((row): row is [string, string] => row[1] !== undefined)
  .map(([name, value]) => `<tr><th>${name}</th><td>${escapeMarkup(value)}</td></tr>`)
  .join('\n')}
</table>
<h2>Retry timeline</h2>
<figure>${svg}</figure>
${lines.length === 0 ? '<p>No events recorded.</p>' : `<ol class="timeline">\n${lines.map((line) => `<li>${escapeMarkup(line)}</li>`).join('\n')}\n</ol>`}
<p><a href="${path}.svg">SVG</a> · <a href="${path}.json">JSON</a> · in the terminal: <code>runner-ops job ${id}</code></p>`,
  });
}

/** The start page: the queue's counts and the latest jobs, each linked to its timeline. */
export function renderIndexPage(status: QueueStatus, jobs: readonly JobSummary[]): string {
  const counts = Object.entries(status.counts)
    .map(([state, count]) => `<tr><th>${escapeMarkup(state)}</th><td>${count}</td></tr>`)
    .join('\n');
  const jobRows = jobs
    .map(
      (job) =>
        `<tr><td><a href="${escapeMarkup(jobPagePath(job.id))}"><code>${escapeMarkup(job.id)}</code></a></td>` +
        `<td class="state-${escapeMarkup(job.state)}">${escapeMarkup(job.state)}</td>` +
        `<td>${escapeMarkup(job.event)}</td><td>${escapeMarkup(job.target)}</td><td>${job.retryCount}</td>` +
        `<td>${escapeMarkup(job.status ?? job.lastError ?? '')}</td></tr>`,
    )
    .join('\n');
  return page('runner-ops', {
    refresh: false,
    body: `
<h1>runner-ops</h1>
<p>${status.isPaused ? '<strong>The queue is paused.</strong> ' : ''}${status.workers} worker(s) connected. Retries in the last hour: request ${status.retriedLastHour.request}, tool ${status.retriedLastHour.tool}, job ${status.retriedLastHour.job}.</p>
<table>${counts}</table>
<h2>Latest jobs</h2>
${jobs.length === 0 ? '<p>No jobs.</p>' : `<table>\n<tr><th>Job</th><th>State</th><th>Event</th><th>Issue</th><th>Retries</th><th>Status or last error</th></tr>\n${jobRows}\n</table>`}`,
  });
}

/** A page that only says something: not found, unavailable. */
export function renderMessagePage(title: string, message: string): string {
  return page(title, {
    refresh: false,
    body: `<h1>${escapeMarkup(title)}</h1>\n<p>${escapeMarkup(message)}</p>`,
  });
}

function page(title: string, content: { refresh: boolean; body: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${content.refresh ? `<meta http-equiv="refresh" content="${refreshSeconds}">\n` : ''}<title>${escapeMarkup(title)}</title>
<style>${style}</style>
</head>
<body>
<nav><a href="/">runner-ops</a><a href="${dashboardPath}">Queue dashboard</a><a href="/metrics">Metrics</a></nav>
${content.body}
</body>
</html>
`;
}
