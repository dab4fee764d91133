import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, type RunnerConfig } from '@runner/config';
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
import { closeServer } from './close-server.ts';
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
  let backend: Backend | undefined;
  const server = createIntake({
    secret,
    appSlug,
    maxBodyBytes: config.webhooks.maxBodyBytes,
    enqueueTimeoutMs: config.webhooks.enqueueTimeoutMs,
    enqueue: (data, bodyDigest) => {
      if (!backend) throw new Error(`Redis at ${redisHost(config)} is not reachable yet`);
      const { queue, redis } = backend;
      return enqueueDelivery({ queue, redis, prefix, data, bodyDigest });
    },
    isReady: async () => {
      if (!backend) return false;
      await Promise.all(backend.clients.map((client) => client.ping()));
      return true;
    },
    logger,
    ...(options.bodyTimeoutMs === undefined ? {} : { bodyTimeoutMs: options.bodyTimeoutMs }),
  });

  const stopWaiting = new AbortController();
  const connecting = (async () => {
    if (!options.waitForRedis) {
      backend = await connectBackend(config, logger);
      return;
    }
    await waitForRedis(config, logger, { signal: stopWaiting.signal });
    backend = await connectBackend(config, logger);
    logger.info({ prefix }, 'Ready: taking deliveries');
  })();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const { forced } = await closeServer(
        server,
        options.shutdownGraceMs ?? defaultStartIntakeOptions.shutdownGraceMs,
      );
      if (forced) logger.warn({}, 'Shutdown grace ran out; cut the requests still in flight');
      stopWaiting.abort();
      await connecting.catch(() => {});
      // BullMQ leaves a client it was given open; a failed close must not keep Redis clients alive.
      await backend?.queue.close().catch(() => {});
      await Promise.all((backend?.clients ?? []).map(closeRedis));
    })();
    return closing;
  };

  if (!options.waitForRedis) {
    try {
      await connecting;
    } catch (error) {
      await close();
      throw error;
    }
  }
  try {
    await listen(server, config.webhooks.port, options.host);
  } catch (error) {
    await close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const url = `http://${urlHost(options.host)}:${port}`;
  logger.info({ port, url, prefix }, `listening on :${port}`);
  return { server, url, ready: connecting, close };
}

/** The intake's Redis side: the dedupe marks' client, and the queue with a client of its own. */
interface Backend {
  redis: RedisClient;
  queue: AgentQueue;
  clients: RedisClient[];
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
  return { redis, queue, clients: [redis, queueRedis] };
}

function listen(server: Server, port: number, host: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const onListening = (): void => {
      server.off('error', reject);
      resolve();
    };
    if (host === undefined) server.listen(port, onListening);
    else server.listen(port, host, onListening);
  });
}

/** The host part of a URL for the address the server listens on. */
function urlHost(host: string | undefined): string {
  if (host === undefined || host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
