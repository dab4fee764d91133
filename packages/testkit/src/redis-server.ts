import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { findFreePort } from './free-port.ts';
import { InvalidRedisUrlError, RedisPortTakenError } from './redis-errors.ts';
import {
  launchRedisProcess,
  type RedisLaunchPlan,
  type RedisProcess,
  stopRedisProcess,
} from './redis-process.ts';

/** A Redis server for a test: a private child process, or an external one from `REDIS_URL`. */
export interface RedisHandle {
  /** e.g. `redis://127.0.0.1:43123` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** True when using a server we did not start; `stop()` then does nothing. */
  readonly external: boolean;
  /** Stops the private server and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
  /**
   * Takes the private server down, keeping its port and data dir, so that `start()` brings it back with
   * whatever it persisted (pass `--appendonly yes` in `args` to keep the data). SIGTERM by default, as an
   * operator would: Redis then writes what it holds to disk. `{ signal: 'SIGKILL' }` is a crash of the
   * process: Redis keeps only what it had handed to the OS (with `--appendfsync everysec` on a slow disk
   * it may hold up to 2 s of answered writes back). Throws for an external server, which is not ours to
   * stop.
   */
  shutdown(options?: RedisShutdownOptions): Promise<void>;
  /** Starts a server taken down by `shutdown()` again, on the same port and dir; resolves once it answers. */
  start(): Promise<void>;
}

/** Options for {@link RedisHandle.shutdown}. */
export interface RedisShutdownOptions {
  /** How Redis goes down: SIGTERM (a clean shutdown) or SIGKILL (a crash). Default SIGTERM. */
  readonly signal?: 'SIGTERM' | 'SIGKILL';
}

/** Options for {@link startRedis}. */
export interface StartRedisOptions {
  /** Use this server instead of spawning one. Defaults to `process.env.REDIS_URL`. */
  readonly url?: string;
  /** Spawn a private server even if `url` or `REDIS_URL` is set (for tests that stop it). */
  readonly forcePrivate?: boolean;
  /** redis-server binary. Defaults to `process.env.REDIS_SERVER_BIN`, then `redis-server` on PATH. */
  readonly binary?: string;
  /** Extra redis-server arguments, placed last so they override the defaults. */
  readonly args?: readonly string[];
  /** Bound on spawning plus waiting for PING, across port retries. */
  readonly startTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM before sending SIGKILL. */
  readonly stopTimeoutMs?: number;
}

/** Defaults for {@link StartRedisOptions}. */
export const defaultRedisServerOptions = {
  binary: 'redis-server',
  host: '127.0.0.1',
  startTimeoutMs: 10_000,
  stopTimeoutMs: 5_000,
  /** Fresh ports to try when redis-server cannot bind (another process took the port). */
  bindRetries: 3,
} as const;

// The testkit is test-only, so it is the one place outside config allowed to read the
// environment; keep every read here.
function readRedisEnv(): { url: string | undefined; binary: string | undefined } {
  return { url: process.env.REDIS_URL || undefined, binary: process.env.REDIS_SERVER_BIN || undefined };
}

// Ports claimed by this process's servers, so concurrent starts never pick the same one.
const claimedPorts = new Set<number>();

function externalHandle(url: string): RedisHandle {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new InvalidRedisUrlError(`Not a URL: "${url}"; expected redis://host:port`, { cause: error });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new InvalidRedisUrlError(`Expected a redis:// or rediss:// URL, got "${url}"`);
  }
  return {
    url,
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    external: true,
    stop: () => Promise.resolve(),
    shutdown: () =>
      Promise.reject(new Error(`Not stopping ${url}: it is an external server, not one the test started`)),
    start: () => Promise.resolve(),
  };
}

function privateHandle(first: RedisProcess, plan: RedisLaunchPlan, startTimeoutMs: number): RedisHandle {
  const { host, port, dir } = plan;
  let live: RedisProcess | undefined = first;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (live) await stopRedisProcess(live, plan.killTimeoutMs);
      live = undefined;
      claimedPorts.delete(port);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  const shutdown = async (options: RedisShutdownOptions = {}): Promise<void> => {
    if (live) await stopRedisProcess(live, plan.killTimeoutMs, options.signal);
    live = undefined;
  };
  const start = async (): Promise<void> => {
    if (stopping) throw new Error('This Redis server was stopped for good; start another with startRedis()');
    live ??= await launchRedisProcess({ ...plan, deadlineMs: performance.now() + startTimeoutMs });
  };
  return { url: `redis://${host}:${port}`, host, port, external: false, stop, shutdown, start };
}

export function serverArgs(port: number, host: string, dir: string, extra: readonly string[]): string[] {
  // biome-ignore format: one option per line, like the redis.conf it stands in for
  return [
    '--port', String(port),
    '--bind', host,
    '--dir', dir,
    '--save', '',
    '--appendonly', 'no',
    '--maxmemory-policy', 'noeviction',
    '--daemonize', 'no',
    '--protected-mode', 'yes',
    '--loglevel', 'warning',
    ...extra,
  ];
}

/**
 * Gives a test a Redis server. Uses `options.url ?? REDIS_URL` if set; otherwise spawns a
 * private `redis-server` on a free loopback port in a fresh temp dir, with persistence off
 * and `maxmemory-policy noeviction`, and waits until it answers PING.
 *
 * Missing Redis fails loudly with `RedisServerNotFoundError`; it never skips.
 *
 * @example
 * const redis = await startRedis();
 * const client = new Redis(redis.url);
 * // ...
 * await client.quit();
 * await redis.stop();
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisHandle> {
  const env = readRedisEnv();
  const externalUrl = options.forcePrivate === true ? undefined : (options.url ?? env.url);
  if (externalUrl) return externalHandle(externalUrl);

  const host = defaultRedisServerOptions.host;
  const binary = options.binary ?? env.binary ?? defaultRedisServerOptions.binary;
  const startTimeoutMs = options.startTimeoutMs ?? defaultRedisServerOptions.startTimeoutMs;
  const stopTimeoutMs = options.stopTimeoutMs ?? defaultRedisServerOptions.stopTimeoutMs;
  const deadlineMs = performance.now() + startTimeoutMs;
  const dir = await mkdtemp(join(tmpdir(), 'testkit-redis-'));

  for (let attempt = 0; ; attempt += 1) {
    const port = await findFreePort(host, claimedPorts);
    claimedPorts.add(port);
    const args = serverArgs(port, host, dir, options.args ?? []);
    const plan = { binary, args, host, port, dir, deadlineMs, killTimeoutMs: stopTimeoutMs };
    try {
      return privateHandle(await launchRedisProcess(plan), plan, startTimeoutMs);
    } catch (error) {
      claimedPorts.delete(port);
      // Probing for a free port and binding it are not atomic; another process can win.
      if (error instanceof RedisPortTakenError && attempt < defaultRedisServerOptions.bindRetries) continue;
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }
}
