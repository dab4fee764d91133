import type { IncomingMessage, ServerResponse } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { AgentQueue, QueueInspector } from '@runner/queue';
import { dashboardPath, jobPagePath } from './ops-pages.ts';

/** An Express app called as a plain Node handler; `next` runs when no route answered, or on an error. */
type ExpressHandler = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

/** Answers a request under {@link dashboardPath}; `fallback` answers when the dashboard has no such route. */
export type DashboardHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  fallback: (error?: unknown) => void,
) => Promise<void>;

/**
 * The queue dashboard: bull-board on the agent queue, at {@link dashboardPath}, each job linking to its retry
 * timeline. Retrying a failed job from it goes through `QueueInspector.retry`, as `runner-ops retry` does:
 * bull-board's own retry keeps the job's used attempts and its dead-letter mark, so a dead-lettered job
 * would fail for good on its first new error, with no trace of the retry in its timeline.
 */
export function createDashboard(queue: AgentQueue, inspector: QueueInspector): DashboardHandler {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(dashboardPath);
  createBullBoard({
    queues: [
      new BullMQAdapter(queue, {
        displayName: 'Agent jobs',
        externalJobUrl: (job) => ({
          displayText: 'Retry timeline',
          href: jobPagePath(String(job.id ?? '')),
        }),
      }),
    ],
    serverAdapter,
    options: {
      uiConfig: { boardTitle: 'runner-ops', miscLinks: [{ text: 'Job timelines', url: '/' }] },
    },
  });
  const app = serverAdapter.getRouter() as ExpressHandler;

  return async (req, res, fallback) => {
    const url = new URL(req.url ?? '/', 'http://ops');
    // Mounted the way Express's app.use(path, app) mounts: the app sees the path below its base.
    const below = url.pathname.slice(dashboardPath.length) || '/';
    if (req.method === 'PUT' && (await retriedByInspector(below, queue, inspector, res))) {
      req.resume();
      return;
    }
    req.url = `${below}${url.search}`;
    app(req, res, fallback);
  };
}

/**
 * bull-board's retry routes (`PUT /api/queues/<queue>/retry/failed`, `PUT /api/queues/<queue>/<id>/retry`)
 * for failed jobs of our queue, answered as bull-board would but through the inspector. False when the
 * request is something else (a completed job's rerun, say), for bull-board to answer.
 */
async function retriedByInspector(
  path: string,
  queue: AgentQueue,
  inspector: QueueInspector,
  res: ServerResponse,
): Promise<boolean> {
  const parts = path.split('/').slice(1).map(decodeSegment);
  if (parts.length !== 5 || parts[0] !== 'api' || parts[1] !== 'queues' || parts[2] !== queue.name) {
    return false;
  }
  // Checked first, in bull-board's order: its routes match `retry/<status>` before `<id>/retry`.
  if (parts[3] === 'retry') {
    if (parts[4] !== 'failed') return false;
    const total = (await queue.getJobCounts('failed')).failed ?? 0;
    const retried = total === 0 ? [] : await inspector.retryFailed(total);
    const body = JSON.stringify({ retried: retried.length, skipped: Math.max(0, total - retried.length) });
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(body);
    return true;
  }
  if (parts[4] !== 'retry' || parts[3] === undefined) return false;
  if ((await inspector.retry(parts[3])) !== 'retried') return false;
  res.writeHead(204).end();
  return true;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
