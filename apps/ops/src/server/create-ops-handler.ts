import type { IncomingMessage, ServerResponse } from 'node:http';
import type { QueueInspector } from '@runner/queue';
import { withTimeout } from '@runner/retry';
import type { Registry } from 'prom-client';
import type { DashboardHandler } from './dashboard.ts';
import { basicChallenge, isAuthorized } from './ops-auth.ts';
import type { OpsLogger } from './ops-logger.ts';
import {
  dashboardPath,
  isUnfinished,
  renderIndexPage,
  renderJobPage,
  renderMessagePage,
} from './ops-pages.ts';
import { renderTimelineSvg } from './timeline-svg.ts';

/** What the routes read, once Redis has been reached. */
export interface OpsBackend {
  inspector: QueueInspector;
  registry: Registry;
  dashboard: DashboardHandler;
  /** Whether every Redis client is connected now; false answers 503 at once instead of trying. */
  redisUp: () => boolean;
  /** PINGs Redis; bounded by `readyTimeoutMs`. */
  ping: () => Promise<unknown>;
}

export interface OpsHandlerOptions {
  /** `OPS_TOKEN`; absent: no authentication (the server then listens on loopback only). */
  token: string | undefined;
  /** Undefined while the server waits for its Redis: every route but `/healthz` answers 503 meanwhile. */
  backend: () => OpsBackend | undefined;
  logger: OpsLogger;
  /** Default `defaultOpsHandlerOptions.readyTimeoutMs`. */
  readyTimeoutMs?: number;
  /** The present for an unfinished job's timeline, epoch ms. Default `Date.now`. */
  now?: () => number;
}

export const defaultOpsHandlerOptions = {
  /** How long `/readyz` waits for Redis to answer PING, in ms; no answer by then is "not ready". */
  readyTimeoutMs: 1_000,
} as const;

const authRequiredMessage =
  'Authentication required: send "Authorization: Bearer <OPS_TOKEN>", or sign in with any user name and OPS_TOKEN as the password.';

const redisDownMessage = 'Redis is unavailable; the ops server answers again as soon as it is back.';

// Our own pages carry no script: a reason string that got past the escaping still could not run.
const pageHeaders = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

/**
 * The ops server's routes:
 * - `GET /healthz` 200 `{ ok: true }`, `GET /readyz` 200 `{ ready: true }` or 503 `{ ready: false }`: no auth.
 * - Everything else needs the token (Bearer, or Basic with the token as password) when there is one; 401
 *   with a Basic challenge otherwise.
 * - `GET /` the latest jobs; `GET /jobs/<id>` a job's timeline page, `.svg` the picture, `.json` the data
 *   (404 for an unknown job); `GET /metrics` Prometheus text; `/admin/queues` the dashboard.
 * - With Redis down, or not reached yet, every route that reads it answers 503 at once.
 */
export function createOpsHandler(
  options: OpsHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const readyTimeoutMs = options.readyTimeoutMs ?? defaultOpsHandlerOptions.readyTimeoutMs;
  const now = options.now ?? Date.now;
  const { logger } = options;
  const redisUp = (): boolean => options.backend()?.redisUp() ?? false;

  const route = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    const method = req.method ?? 'GET';
    const readOnly = method === 'GET' || method === 'HEAD';
    if (path === '/healthz' || path === '/readyz') {
      if (!readOnly) return methodNotAllowed(res);
      if (path === '/healthz') return json(res, 200, { ok: true });
      const backend = options.backend();
      const ready = backend?.redisUp() ? await within(readyTimeoutMs, backend.ping) : false;
      return json(res, ready ? 200 : 503, { ready });
    }
    if (options.token !== undefined && !isAuthorized(req.headers.authorization, options.token)) {
      return text(res, 401, authRequiredMessage, { 'www-authenticate': basicChallenge });
    }
    const dashboard = path === dashboardPath || path.startsWith(`${dashboardPath}/`);
    const job = /^\/jobs\/([^/]+)$/.exec(path);
    if (!dashboard && job === null && path !== '/' && path !== '/metrics') {
      return html(res, 404, renderMessagePage('Not found', `Nothing at ${path}.`));
    }
    if (!dashboard && !readOnly) return methodNotAllowed(res);
    const backend = options.backend();
    if (backend === undefined || !backend.redisUp()) {
      return text(res, 503, redisDownMessage, { 'retry-after': '5' });
    }
    const { inspector, registry } = backend;

    if (dashboard) {
      return backend.dashboard(req, res, (error) => {
        if (error === undefined) html(res, 404, renderMessagePage('Not found', `Nothing at ${path}.`));
        else fail(res, error, path);
      });
    }
    if (path === '/metrics') {
      const body = await registry.metrics();
      return send(res, 200, registry.contentType, body, { 'cache-control': 'no-store' });
    }
    if (job === null) {
      const [status, jobs] = await Promise.all([inspector.status(), inspector.jobs({ limit: 50 })]);
      return html(res, 200, renderIndexPage(status, jobs));
    }
    const { id, format } = jobRequest(job[1] ?? '');
    const details = await inspector.job(id);
    if (details === undefined) {
      if (format === 'json') return json(res, 404, { error: `No job ${id}` });
      return html(
        res,
        404,
        renderMessagePage(
          'Job not found',
          `There is no job ${id}; finished jobs are kept 7 days (completed) or 30 days (failed).`,
        ),
      );
    }
    if (format === 'json') return json(res, 200, details);
    const svg = renderTimelineSvg(details.timeline, isUnfinished(details.state) ? { now: now() } : {});
    if (format === 'svg') return send(res, 200, 'image/svg+xml', svg, pageHeaders);
    return html(res, 200, renderJobPage(details, svg));
  };

  const fail = (res: ServerResponse, error: unknown, path: string): void => {
    if (!redisUp()) {
      text(res, 503, redisDownMessage, { 'retry-after': '5' });
      return;
    }
    logger.error({ err: error, path }, `Could not answer ${path}`);
    text(res, 500, 'Internal error; see the ops server log.');
  };

  return (req, res) => {
    const startedAt = performance.now();
    const path = pathOf(req.url);
    res.on('finish', () => {
      // The path only: no query, no headers (they may carry the token).
      logger.debug(
        {
          method: req.method,
          path,
          status: res.statusCode,
          durationMs: Math.round(performance.now() - startedAt),
        },
        `${req.method} ${path} ${res.statusCode}`,
      );
    });
    route(req, res, path).catch((error: unknown) => fail(res, error, path));
  };
}

/** `/jobs/<id>`, `/jobs/<id>.svg`, `/jobs/<id>.json`, the id URL-encoded. */
function jobRequest(segment: string): { id: string; format: 'html' | 'svg' | 'json' } {
  const match = /^(.+)\.(svg|json)$/.exec(segment);
  const format = match?.[2] === 'svg' || match?.[2] === 'json' ? match[2] : 'html';
  const raw = match?.[1] ?? segment;
  let id: string;
  try {
    id = decodeURIComponent(raw);
  } catch {
    id = raw;
  }
  return { id, format };
}

function pathOf(url: string | undefined): string {
  try {
    return new URL(url ?? '/', 'http://ops').pathname;
  } catch {
    return '/';
  }
}

/** Whether `probe` resolves within `timeoutMs`; a rejection or no answer in time is false. */
function within(timeoutMs: number, probe: () => Promise<unknown>): Promise<boolean> {
  return withTimeout(probe(), timeoutMs, () => new Error(`no answer within ${timeoutMs} ms`)).then(
    () => true,
    () => false,
  );
}

function methodNotAllowed(res: ServerResponse): void {
  text(res, 405, 'Method not allowed', { allow: 'GET, HEAD' });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(body)}\n`, {
    'cache-control': 'no-store',
  });
}

function html(res: ServerResponse, status: number, body: string): void {
  send(res, status, 'text/html; charset=utf-8', body, pageHeaders);
}

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  send(res, status, 'text/plain; charset=utf-8', `${body}\n`, { 'cache-control': 'no-store', ...headers });
}

/** Does nothing when the answer was already sent or the socket is gone. */
function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': String(Buffer.byteLength(body)),
    ...headers,
  });
  res.end(body);
}
