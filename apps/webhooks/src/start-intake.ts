import type { Server } from 'node:http';
import { ConfigError, type RunnerConfig } from '@runner/config';
import { serveWithBackend } from '@runner/http-service';
import {
  type AgentQueue,
  assertNoEviction,
  closeRedis,
  connectRedis,
  createAgentQueue,
  enqueueDelivery,
  type RedisClient,
  redisHost,
  waitForRedis,
} from '@runner/queue';
import { createIntake } from './create-intake.ts';
import type { IntakeLogger } from './intake-logger.ts';

/** Options for {@link startIntake}; the rest comes from the config. */
export interface StartIntakeOptions {
  /** Interface to listen on. Default: every interface (GitHub must reach it). */
  host?: string;
  /** Per-request body timeout, in ms. Default `defaultIntakeOptions.bodyTimeoutMs`. */
  bodyTimeoutMs?: number;
  /** On close, how long in-flight requests may take before their connections are cut, in ms. */
  shutdownGraceMs?: number;
  /**
   * Listen at once and wait for Redis in the background (retrying with backoff, a log line per try),
   * answering `/readyz` and deliveries with 503 meanwhile, instead of refusing to start. `main.ts` does
   * this, so an intake started before its Redis (a node reboot, a compose stack) comes up by itself.
   * `ready` settles when Redis is connected (or is refused for evicting keys).
   */
  waitForRedis?: boolean;
}

export const defaultStartIntakeOptions = {
  /** On close, in-flight requests get this long to finish, in ms (GitHub itself gives up after 10 s). */
  shutdownGraceMs: 10_000,
} as const;

/** A listening intake. */
export interface RunningIntake {
  server: Server;
  /** e.g. `http://127.0.0.1:3000`; POST webhooks to `${url}/webhooks`. */
  url: string;
  /**
   * Resolves once Redis is connected: at once unless `waitForRedis`. Rejects with EvictionPolicyError
   * when the Redis that appears may evict keys (the intake then answers 503 until closed).
   */
  ready: Promise<void>;
  /**
   * Stops accepting, waits (bounded) for in-flight requests, then closes the queue and Redis.
   * Idempotent; never rejects.
   */
  close(): Promise<void>;
}

/**
 * Connects to Redis (refusing one that may evict keys), opens the agent queue and starts the intake on
 * `config.webhooks.port`. Used by `main.ts` and by the demo.
 * @throws ConfigError when the config was loaded without `needs: ['webhooks']`; RedisUnreachableError;
 *   EvictionPolicyError when Redis is not `maxmemory-policy noeviction`; the listen error (EADDRINUSE).
 */
export async function startIntake(
  config: RunnerConfig,
  logger: IntakeLogger,
  options: StartIntakeOptions = {},
): Promise<RunningIntake> {
  const { webhookSecret: secret, appSlug } = config.github;
  if (secret === undefined || appSlug === undefined) {
    throw new ConfigError([
      "GITHUB_WEBHOOK_SECRET and GITHUB_APP_SLUG are required for webhooks; load the config with needs: ['webhooks']",
    ]);
  }
  const prefix = config.queue.prefix;
  const serving = await serveWithBackend<Backend>({
    createServer: (backend) =>
      createIntake({
        secret,
        appSlug,
        maxBodyBytes: config.webhooks.maxBodyBytes,
        enqueueTimeoutMs: config.webhooks.enqueueTimeoutMs,
        enqueue: (data, bodyDigest) => {
          const connected = backend();
          if (!connected) throw new Error(`Redis at ${redisHost(config)} is not reachable yet`);
          const { queue, redis } = connected;
          return enqueueDelivery({ queue, redis, prefix, data, bodyDigest });
        },
        isReady: async () => {
          const connected = backend();
          if (!connected) return false;
          await Promise.all(connected.clients.map((client) => client.ping()));
          return true;
        },
        logger,
        ...(options.bodyTimeoutMs === undefined ? {} : { bodyTimeoutMs: options.bodyTimeoutMs }),
      }),
    connect: async (signal) => {
      if (!options.waitForRedis) return connectBackend(config, logger);
      await waitForRedis(config, logger, { signal });
      const backend = await connectBackend(config, logger);
      logger.info({ prefix }, 'Ready: taking deliveries');
      return backend;
    },
    connectInBackground: options.waitForRedis === true,
    port: config.webhooks.port,
    host: options.host,
    shutdownGraceMs: options.shutdownGraceMs ?? defaultStartIntakeOptions.shutdownGraceMs,
    logger,
  });
  const { server, url, port, ready, close } = serving;
  logger.info({ port, url, prefix }, `listening on :${port}`);
  return { server, url, ready, close };
}

/** The intake's Redis side: the dedupe marks' client, and the queue with a client of its own. */
interface Backend {
  redis: RedisClient;
  queue: AgentQueue;
  clients: RedisClient[];
  close(): Promise<void>;
}

async function connectBackend(config: RunnerConfig, logger: IntakeLogger): Promise<Backend> {
  // The dedupe marks' client batches the commands of deliveries handled in the same event-loop turn into
  // one write: under load, one socket write (a system call) serves many deliveries' marks.
  const redis = await connectRedis(config, logger, 'webhooks', { enableAutoPipelining: true });
  // The queue gets its own client, with the same fail-fast options. It is handed to BullMQ as an instance
  // we own: with Redis down, BullMQ 5.81's close() of a connection it created rejects and its
  // disconnect() never resolves, while a client of ours can always be dropped.
  let queueRedis: RedisClient;
  try {
    await assertNoEviction(redis);
    queueRedis = await connectRedis(config, logger, 'webhooks-queue');
  } catch (error) {
    await closeRedis(redis);
    throw error;
  }
  const queue = createAgentQueue({
    connection: queueRedis,
    prefix: config.queue.prefix,
    policy: config.retry.job,
  });
  // Connection errors are logged once per outage by connectRedis; anything else is worth a warning.
  queue.on('error', (error: unknown) => {
    if (queueRedis.status === 'ready') logger.warn({ err: error, target: 'queue' }, 'Queue error');
  });
  const clients = [redis, queueRedis];
  return {
    redis,
    queue,
    clients,
    async close() {
      // BullMQ leaves a client it was given open; a failed close must not keep Redis clients alive.
      await queue.close().catch(() => {});
      await Promise.all(clients.map(closeRedis));
    },
  };
}
