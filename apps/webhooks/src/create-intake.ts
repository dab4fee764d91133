import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { holdJobStarts } from '@runner/queue';
import { withTimeout } from '@runner/retry';
import { type Enqueue, handleWebhook } from './handle-webhook.ts';
import { replyJson } from './http-reply.ts';
import type { IntakeLogger } from './intake-logger.ts';

/** Options for {@link createIntake}. */
export interface IntakeOptions {
  /** The webhook secret set on the GitHub App (`GITHUB_WEBHOOK_SECRET`). */
  secret: string;
  /** The App's slug (`GITHUB_APP_SLUG`): comments must mention `@<appSlug>`. */
  appSlug: string;
  /** Largest body accepted, in bytes (`WEBHOOK_MAX_BODY_BYTES`); larger ones get 413. */
  maxBodyBytes: number;
  /** Stores the job; `enqueueDelivery` in production, a fake in tests. Throws → 503. */
  enqueue: Enqueue;
  /** Longest `enqueue` may take before the answer is 503, in ms. Default `defaultIntakeOptions.enqueueTimeoutMs`. */
  enqueueTimeoutMs?: number;
  /** Whether the queue can take jobs (Redis answers); bounded by `readyTimeoutMs`. */
  isReady: () => Promise<boolean>;
  logger: IntakeLogger;
  /** Default `defaultIntakeOptions.bodyTimeoutMs`. */
  bodyTimeoutMs?: number;
  /** Default `defaultIntakeOptions.readyTimeoutMs`. */
  readyTimeoutMs?: number;
  /** Default `defaultIntakeOptions.headersTimeoutMs`. */
  headersTimeoutMs?: number;
  /** The clock for a job's `receivedAt`. Default `() => new Date()`. */
  now?: () => Date;
}

export const defaultIntakeOptions = {
  /**
   * From the headers to the last byte of a webhook's body, in ms; then 408 and the connection is closed.
   * GitHub sends its body at once; a sender that trickles would hold a socket and a buffer.
   */
  bodyTimeoutMs: 10_000,
  /** `WEBHOOK_ENQUEUE_TIMEOUT_MS`'s default, in ms: a 503 well within GitHub's 10 s when Redis holds commands. */
  enqueueTimeoutMs: 5_000,
  /** How long `/readyz` waits for `isReady`, in ms; no answer by then is "not ready". */
  readyTimeoutMs: 1_000,
  /** Node's `server.headersTimeout`: the whole header block must arrive within this, in ms (Node: 60 s). */
  headersTimeoutMs: 10_000,
  /**
   * How often Node checks `headersTimeout` and `requestTimeout`, in ms (Node: 30 s, which would let a
   * slow header sender stay up to 30 s past its limit).
   */
  connectionsCheckingIntervalMs: 1_000,
  /** Node's `keepAliveTimeout` for idle connections between requests, in ms (Node's default). */
  keepAliveTimeoutMs: 5_000,
} as const;

/**
 * The intake's HTTP server (not yet listening):
 * - `POST /webhooks`: see `handleWebhook`: 202 `{ jobId }`, 200 `{ duplicate, jobId }` or `{ ignored }`,
 *   400, 401, 408, 413, 503 `{ error }`.
 * - `GET /healthz`: 200 `{ ok: true }` while the process runs.
 * - `GET /readyz`: 200 `{ ready: true }` when `isReady()` says so within `readyTimeoutMs`, else 503.
 * - Other paths 404; other methods 405 with `Allow`.
 */
export function createIntake(options: IntakeOptions): Server {
  const bodyTimeoutMs = options.bodyTimeoutMs ?? defaultIntakeOptions.bodyTimeoutMs;
  const readyTimeoutMs = options.readyTimeoutMs ?? defaultIntakeOptions.readyTimeoutMs;
  const headersTimeoutMs = options.headersTimeoutMs ?? defaultIntakeOptions.headersTimeoutMs;
  const server = createServer({
    headersTimeout: headersTimeoutMs,
    // Node's own backstop for the whole request; ours (bodyTimeoutMs) answers first.
    requestTimeout: headersTimeoutMs + bodyTimeoutMs + defaultIntakeOptions.connectionsCheckingIntervalMs,
    connectionsCheckingInterval: defaultIntakeOptions.connectionsCheckingIntervalMs,
    keepAliveTimeout: defaultIntakeOptions.keepAliveTimeoutMs,
  });
  // After server.close(), in-flight answers close their connection so shutdown is not held by keep-alive.
  const closing = (): boolean => !server.listening;
  const webhookOptions = {
    secret: options.secret,
    appSlug: options.appSlug,
    maxBodyBytes: options.maxBodyBytes,
    bodyTimeoutMs,
    enqueue: options.enqueue,
    enqueueTimeoutMs: options.enqueueTimeoutMs ?? defaultIntakeOptions.enqueueTimeoutMs,
    logger: options.logger,
    now: options.now ?? (() => new Date()),
    closing,
  };

  type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  const routes = new Map<string, { methods: readonly string[]; handle: Handler }>([
    ['/webhooks', { methods: ['POST'], handle: (req, res) => handleWebhook(req, res, webhookOptions) }],
    [
      '/healthz',
      {
        methods: ['GET', 'HEAD'],
        handle: async (_, res) => replyJson(res, 200, { ok: true }, { close: closing() }),
      },
    ],
    [
      '/readyz',
      {
        methods: ['GET', 'HEAD'],
        handle: async (_, res) => {
          const ready = await probe(options.isReady, readyTimeoutMs);
          if (!ready) options.logger.debug({ status: 503 }, 'Not ready: the queue does not answer');
          replyJson(res, ready ? 200 : 503, { ready }, { close: closing() });
        },
      },
    ],
  ]);

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const match = routes.get((req.url ?? '/').split('?', 1)[0] ?? '');
    // The body of a request we refuse unread is not drained: the connection closes instead.
    if (match === undefined) return replyJson(res, 404, { error: 'not found' }, { close: true });
    if (!match.methods.includes(req.method ?? '')) {
      const headers = { allow: match.methods.join(', ') };
      return replyJson(res, 405, { error: 'method not allowed' }, { close: true, headers });
    }
    await match.handle(req, res);
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    // A worker in this process starts no job while a request is answered (for a bounded time).
    res.once('close', holdJobStarts());
    route(req, res).catch((error: unknown) => {
      options.logger.error({ err: error, status: 500 }, 'Request failed unexpectedly');
      replyJson(res, 500, { error: 'internal error' }, { close: true });
    });
  });
  return server;
}

/** `isReady()`, false when it throws or takes longer than `timeoutMs`. */
function probe(isReady: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  return withTimeout(isReady(), timeoutMs, () => new Error(`no answer within ${timeoutMs} ms`)).catch(
    () => false,
  );
}
