import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { reply, type Step } from './fake-upstream-steps.ts';
import { performStep } from './perform-step.ts';
import { parseTarget, type RecordedRequest, recordRequest } from './recorded-request.ts';
import { canonicalRouteKey, matchRoute, parseRoute, type Route } from './route-matcher.ts';

/**
 * A route's script: an array of steps (call N gets step N; once the array runs out the LAST
 * step repeats for every further call), or a function deciding each call's step.
 */
export type RouteScript = readonly Step[] | ((req: RecordedRequest) => Step | Promise<Step>);

/** Scripts keyed by `"METHOD /path"`; path segments may be `:param` placeholders. */
export type UpstreamScript = Readonly<Record<string, RouteScript>>;

/** Options for {@link startFakeUpstream}. */
export interface FakeUpstreamOptions {
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
}

/** Defaults for {@link FakeUpstreamOptions}. */
export const defaultFakeUpstreamOptions = {
  host: '127.0.0.1',
  port: 0,
} as const satisfies Required<FakeUpstreamOptions>;

/** Options for {@link FakeUpstream.waitForRequests}. */
export interface WaitForRequestsOptions {
  /** Count only requests matched to this script key. */
  readonly route?: string;
  readonly timeoutMs?: number;
}

/** Defaults for {@link WaitForRequestsOptions}. */
export const defaultWaitForRequestsOptions = {
  timeoutMs: 5000,
} as const;

/** A script route has an empty step array, so there is nothing to answer with. */
export class InvalidScriptError extends Error {
  override readonly name = 'InvalidScriptError';
  constructor(readonly route: string) {
    super(`Script for "${route}" has no steps; give at least one step`);
  }
}

/** `waitForRequests` did not see enough requests within its bound. */
export class WaitForRequestsTimeoutError extends Error {
  override readonly name = 'WaitForRequestsTimeoutError';
}

/** The fake upstream was closed while something was still waiting on it. */
export class FakeUpstreamClosedError extends Error {
  override readonly name = 'FakeUpstreamClosedError';
}

/** A running fake upstream; see {@link startFakeUpstream}. */
export interface FakeUpstream {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:43123`. */
  readonly url: string;
  /** Every request received, matched or not, in arrival order (a live array). */
  readonly requests: readonly RecordedRequest[];
  /** Requests matched to `route` (a script key), in arrival order. */
  requestsTo(route: string): readonly RecordedRequest[];
  /** How many requests matched `route` in total, including those before any `setScript`. */
  callCount(route: string): number;
  /**
   * Resolves with the matching requests once at least `count` have arrived; rejects with
   * {@link WaitForRequestsTimeoutError} after `timeoutMs` (default 5000).
   */
  waitForRequests(count: number, options?: WaitForRequestsOptions): Promise<readonly RecordedRequest[]>;
  /** Replaces (or adds) a route's script and restarts its call numbering at 1. */
  setScript(route: string, script: RouteScript): void;
  /** Stops the server and destroys every open socket, hanging ones included. Idempotent. */
  close(): Promise<void>;
}

interface RouteState {
  readonly route: Route;
  steps: readonly Step[];
  calls: number;
}

function toSteps(route: string, script: RouteScript): readonly Step[] {
  // A function script is the same as a one-step array: its single step repeats forever.
  const steps = typeof script === 'function' ? [script] : script;
  if (steps.length === 0) throw new InvalidScriptError(route);
  return steps;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function describe(requests: readonly RecordedRequest[]): string {
  const shown = requests.slice(0, 20).map((r) => `${r.method} ${r.path}`);
  const more = requests.length > shown.length ? `, ... ${requests.length - shown.length} more` : '';
  return shown.length === 0 ? 'none' : shown.join(', ') + more;
}

function formatUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * Starts a real HTTP server whose responses follow `script`, per route and per call
 * number, and which records every request. Unmatched requests get a JSON 404.
 *
 * @example
 * const upstream = await startFakeUpstream({
 *   'POST /v1/chat/completions': [reply.rateLimited({ retryAfterSeconds: 1 }), reply.json(200, completion)],
 * });
 */
export async function startFakeUpstream(
  script: UpstreamScript,
  options: FakeUpstreamOptions = {},
): Promise<FakeUpstream> {
  const host = options.host ?? defaultFakeUpstreamOptions.host;
  const routes = new Map<string, RouteState>();
  const setScript = (key: string, routeScript: RouteScript): void => {
    const route = parseRoute(key);
    routes.set(route.key, { route, steps: toSteps(key, routeScript), calls: 0 });
  };
  for (const [key, routeScript] of Object.entries(script)) setScript(key, routeScript);

  const requests: RecordedRequest[] = [];
  const unmatchedCalls = new Map<string, number>();
  const events = new EventEmitter();
  // Every pending waitForRequests adds listeners; many in parallel is legitimate, not a leak.
  events.setMaxListeners(0);
  const sockets = new Set<Socket>();
  const lifetime = new AbortController();
  let startedAtMs = performance.now();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // Stamp arrival before reading the body, so timing asserts measure when the client called.
    const receivedAtMs = performance.now() - startedAtMs;
    const at = new Date();
    let body: string;
    try {
      body = await readBody(req);
    } catch {
      return; // The client went away mid-request; there is nothing to answer.
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const target = req.url ?? '/';
    const { path } = parseTarget(target);
    const match = matchRoute(
      Array.from(routes.values(), (state) => state.route),
      method,
      path,
    );
    const state = match === undefined ? undefined : routes.get(match.route.key);
    let callNumber: number;
    if (state === undefined) {
      callNumber = (unmatchedCalls.get(`${method} ${path}`) ?? 0) + 1;
      unmatchedCalls.set(`${method} ${path}`, callNumber);
    } else {
      state.calls += 1;
      callNumber = state.calls;
    }
    const recorded = recordRequest(
      { method, target, headers: req.headers, body },
      {
        route: state?.route.key,
        params: match?.params ?? {},
        callNumber,
        receivedAtMs,
        at,
      },
    );
    requests.push(recorded);
    events.emit('request', recorded);

    const step: Step =
      state === undefined
        ? reply.json(404, { message: `Not Found (no scripted route for ${method} ${path})` })
        : (state.steps[Math.min(callNumber, state.steps.length) - 1] ?? reply.status(500));
    try {
      await performStep(step, recorded, res, lifetime.signal);
    } catch (error) {
      // Surface script bugs to the client under test instead of leaving it hanging.
      const message = `fake-upstream: step for ${recorded.route ?? path} failed: ${String(error)}`;
      if (res.headersSent) {
        res.destroy();
      } else {
        const failure = reply.json(500, { message });
        res.writeHead(failure.status, failure.headers);
        res.end(failure.body);
      }
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(options.port ?? defaultFakeUpstreamOptions.port, host);
  await once(server, 'listening');
  startedAtMs = performance.now();
  const { port } = server.address() as AddressInfo;

  const requestsTo = (route: string): readonly RecordedRequest[] => {
    const key = canonicalRouteKey(route);
    return requests.filter((r) => r.route === key);
  };

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      lifetime.abort();
      events.emit('close');
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
    return closing;
  };

  const waitForRequests = (
    count: number,
    waitOptions: WaitForRequestsOptions = {},
  ): Promise<readonly RecordedRequest[]> => {
    const route = waitOptions.route;
    const timeoutMs = waitOptions.timeoutMs ?? defaultWaitForRequestsOptions.timeoutMs;
    const matching = (): readonly RecordedRequest[] => (route === undefined ? requests : requestsTo(route));
    const what = `${count} request(s) to ${route ?? 'any route'}`;
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        events.off('request', onRequest);
        events.off('close', onClose);
      };
      const onRequest = (): void => {
        const found = matching();
        if (found.length < count) return;
        cleanup();
        resolve(found);
      };
      const onClose = (): void => {
        cleanup();
        reject(new FakeUpstreamClosedError(`Fake upstream closed while waiting for ${what}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        const seen = `got ${matching().length}; all requests so far: ${describe(requests)}`;
        reject(
          new WaitForRequestsTimeoutError(`Timed out after ${timeoutMs}ms waiting for ${what}; ${seen}`),
        );
      }, timeoutMs);
      events.on('request', onRequest);
      events.on('close', onClose);
      onRequest();
      if (closing !== undefined && matching().length < count) onClose();
    });
  };

  return {
    url: formatUrl(host, port),
    requests,
    requestsTo,
    callCount: (route) => requestsTo(route).length,
    waitForRequests,
    setScript,
    close,
  };
}
