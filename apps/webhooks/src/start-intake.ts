import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, type RunnerConfig } from '@runner/config';
import { assertNoEviction, closeRedis, connectRedis, createAgentQueue, enqueueDelivery } from '@runner/queue';
import type { Redis } from 'ioredis';
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
  // The dedupe marks' client batches the commands of deliveries handled in the same event-loop turn into
  // one write: under load, one socket write (a system call) serves many deliveries' marks.
  const redis = await connectRedis(config.redisUrl, logger, 'webhooks', { enableAutoPipelining: true });
  // The queue gets its own client, with the same fail-fast options. It is handed to BullMQ as an instance
  // we own: with Redis down, BullMQ 5.81's close() of a connection it created rejects and its
  // disconnect() never resolves, while a client of ours can always be dropped.
  let queueRedis: Redis;
  try {
    await assertNoEviction(redis);
    queueRedis = await connectRedis(config.redisUrl, logger, 'webhooks-queue');
  } catch (error) {
    await closeRedis(redis);
    throw error;
  }
  const queue = createAgentQueue({ connection: queueRedis, prefix, policy: config.retry.job });
  // Connection errors are logged once per outage by connectRedis; anything else is worth a warning.
  queue.on('error', (error: unknown) => {
    if (queueRedis.status === 'ready') logger.warn({ err: error, target: 'queue' }, 'Queue error');
  });
  const clients = [redis, queueRedis];

  const server = createIntake({
    secret,
    appSlug,
    maxBodyBytes: config.webhooks.maxBodyBytes,
    enqueue: (data, bodyDigest) => enqueueDelivery({ queue, redis, prefix, data, bodyDigest }),
    isReady: async () => {
      await Promise.all(clients.map((client) => client.ping()));
      return true;
    },
    logger,
    ...(options.bodyTimeoutMs === undefined ? {} : { bodyTimeoutMs: options.bodyTimeoutMs }),
  });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const { forced } = await closeServer(
        server,
        options.shutdownGraceMs ?? defaultStartIntakeOptions.shutdownGraceMs,
      );
      if (forced) logger.warn({}, 'Shutdown grace ran out; cut the requests still in flight');
      // BullMQ leaves a client it was given open; a failed close must not keep Redis clients alive.
      await queue.close().catch(() => {});
      await Promise.all(clients.map(closeRedis));
    })();
    return closing;
  };

  try {
    await listen(server, config.webhooks.port, options.host);
  } catch (error) {
    await close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const url = `http://${urlHost(options.host)}:${port}`;
  logger.info({ port, url, prefix }, `listening on :${port}`);
  return { server, url, close };
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
