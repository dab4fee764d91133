import { createServer, type Server } from 'node:http';
import type { RunnerConfig } from '@runner/config';
import { serveWithBackend } from '@runner/http-service';
import {
  assertNoEviction,
  closeRedis,
  connectRedis,
  createAgentQueue,
  FleetStats,
  QueueInspector,
  type RedisClient,
  waitForRedis,
} from '@runner/queue';
import { createOpsHandler, type OpsBackend } from './create-ops-handler.ts';
import { createDashboard } from './dashboard.ts';
import { assertOpsAccess } from './ops-auth.ts';
import type { OpsLogger } from './ops-logger.ts';
import { createOpsMetrics } from './ops-metrics.ts';

/** Options for {@link startOpsServer}; the rest comes from `config.ops`. */
export interface StartOpsServerOptions {
  /** On close, how long in-flight requests may take before their connections are cut, in ms. */
  shutdownGraceMs?: number;
  /** How long `/readyz` waits for Redis to answer PING, in ms. */
  readyTimeoutMs?: number;
  /**
   * Listen at once and wait for Redis in the background (retrying with backoff, a log line per try),
   * answering `/readyz` and every page with 503 meanwhile, instead of refusing to start. `main.ts` does
   * this, as the intake's does. `ready` settles when Redis is connected (or is refused for evicting keys).
   */
  waitForRedis?: boolean;
}

export const defaultStartOpsServerOptions = {
  /** On close, in-flight requests get this long to finish, in ms. */
  shutdownGraceMs: 5_000,
  /** In ms: a Redis slower than this to answer PING is not ready. */
  readyTimeoutMs: 1_000,
} as const;

/** A listening ops server. */
export interface RunningOpsServer {
  server: Server;
  /** e.g. `http://127.0.0.1:3001`. */
  url: string;
  /**
   * Resolves once Redis is connected: at once unless `waitForRedis`. Rejects with EvictionPolicyError
   * when the Redis that appears may evict keys (the server then answers 503 until closed).
   */
  ready: Promise<void>;
  /** Stops accepting, waits (bounded) for in-flight requests, then closes the queue and Redis. Idempotent; never rejects. */
  close(): Promise<void>;
}

/**
 * Serves the ops HTTP server on `config.ops.host`:`config.ops.port` (the queue dashboard, job retry
 * timelines and `/metrics`) over the agent queue, once Redis is connected (refusing one that may evict
 * keys). Used by `main.ts` and by tests.
 * @throws OpsTokenRequiredError when `OPS_TOKEN` is unset and the host is not loopback (before touching
 *   Redis); unless `waitForRedis`, RedisUnreachableError and EvictionPolicyError (Redis not
 *   `maxmemory-policy noeviction`); the listen error (EADDRINUSE).
 */
export async function startOpsServer(
  config: RunnerConfig,
  logger: OpsLogger,
  options: StartOpsServerOptions = {},
): Promise<RunningOpsServer> {
  const { host, port, token } = config.ops;
  assertOpsAccess(host, token);
  const prefix = config.queue.prefix;

  const serving = await serveWithBackend<ConnectedBackend>({
    createServer: (backend) =>
      createServer(
        createOpsHandler({
          token,
          backend,
          logger,
          readyTimeoutMs: options.readyTimeoutMs ?? defaultStartOpsServerOptions.readyTimeoutMs,
        }),
      ),
    connect: async (signal) => {
      if (!options.waitForRedis) return connectBackend(config, logger);
      await waitForRedis(config, logger, { signal });
      const backend = await connectBackend(config, logger);
      logger.info({ prefix }, 'Ready: reading the queue');
      return backend;
    },
    connectInBackground: options.waitForRedis === true,
    port,
    host,
    shutdownGraceMs: options.shutdownGraceMs ?? defaultStartOpsServerOptions.shutdownGraceMs,
    logger,
  });
  const { server, url, ready, close } = serving;
  logger.info({ port: serving.port, url, prefix }, `ops server listening on ${url}`);
  if (token === undefined) {
    logger.warn(
      { host },
      `OPS_TOKEN is not set: the ops server answers without authentication, on ${host} only. Set OPS_TOKEN before exposing it.`,
    );
  }
  return { server, url, ready, close };
}

interface ConnectedBackend extends OpsBackend {
  close(): Promise<void>;
}

/** Connects to Redis, refusing one that may evict keys, and opens what the routes read. */
async function connectBackend(config: RunnerConfig, logger: OpsLogger): Promise<ConnectedBackend> {
  const prefix = config.queue.prefix;
  const redis = await connectRedis(config, logger, 'ops');
  // The queue gets its own client, with the same fail-fast options, handed to BullMQ as an instance we
  // own: with Redis down, BullMQ's close() of a connection it created rejects and its disconnect() may
  // never resolve, while a client of ours can always be dropped.
  let queueRedis: RedisClient;
  try {
    await assertNoEviction(redis);
    queueRedis = await connectRedis(config, logger, 'ops-queue');
  } catch (error) {
    await closeRedis(redis);
    throw error;
  }
  const clients = [redis, queueRedis];
  const queue = createAgentQueue({ connection: queueRedis, prefix, policy: config.retry.job });
  // Connection errors are logged once per outage by connectRedis; anything else is worth a warning.
  queue.on('error', (error: unknown) => {
    if (queueRedis.status === 'ready') logger.warn({ err: error, target: 'queue' }, 'Queue error');
  });
  const inspector = new QueueInspector(queue, redis, prefix);
  const registry = createOpsMetrics(inspector, new FleetStats(redis, prefix));
  return {
    inspector,
    registry,
    dashboard: createDashboard(queue, inspector),
    redisUp: () => clients.every((client) => client.status === 'ready'),
    ping: () => redis.ping(),
    async close() {
      registry.clear();
      // BullMQ leaves a client it was given open; a failed close must not keep Redis clients alive.
      await queue.close().catch(() => {});
      await Promise.all(clients.map(closeRedis));
    },
  };
}
