import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { findFreePort } from './free-port.ts';
import { RedisPortTakenError, RedisServerStartError } from './redis-errors.ts';
import { launchRedisProcess, type RedisProcess, stopRedisProcess, waitForExit } from './redis-process.ts';
import { defaultRedisServerOptions, serverArgs } from './redis-server.ts';

const run = promisify(execFile);

/** A private Redis Cluster of masters on loopback, for a test. */
export interface RedisClusterHandle {
  /** The masters, each `{ host, port }`; any of them leads a client to the rest. */
  readonly nodes: ReadonlyArray<{ readonly host: string; readonly port: number }>;
  /** `127.0.0.1:7000,127.0.0.1:7001,...`: what `REDIS_CLUSTER_NODES` takes. */
  readonly nodeList: string;
  /** Stops every node and removes their temp dirs. Idempotent. */
  stop(): Promise<void>;
}

/** Options for {@link startRedisCluster}. */
export interface StartRedisClusterOptions {
  /** Masters to start; Redis needs at least 3 for a cluster. */
  readonly masters?: number;
  /** redis-server binary. Defaults to `REDIS_SERVER_BIN`, then `redis-server` on PATH. */
  readonly binary?: string;
  /** redis-cli binary. Defaults to `REDIS_CLI_BIN`, then `redis-cli` on PATH. */
  readonly cli?: string;
  /** Bound on starting the nodes, creating the cluster and waiting for `cluster_state:ok`, in ms. */
  readonly startTimeoutMs?: number;
  /** Every node requires it (`requirepass`, and `masterauth` for the nodes among themselves). Default: none. */
  readonly password?: string;
}

export const defaultRedisClusterOptions = {
  masters: 3,
  cli: 'redis-cli',
  startTimeoutMs: 20_000,
} as const;

// The testkit is test-only; like redis-server.ts, it keeps its environment reads in one function.
function readClusterEnv(): { binary: string | undefined; cli: string | undefined } {
  return {
    binary: process.env.REDIS_SERVER_BIN || undefined,
    cli: process.env.REDIS_CLI_BIN || undefined,
  };
}

/**
 * Why a Redis Cluster cannot be started here, or undefined when it can: `redis-cli` (which creates the
 * cluster) is missing. Tests skip on it with `it.skipIf(...)` and print it, so a skip is never silent.
 */
export async function redisClusterUnavailable(cli?: string): Promise<string | undefined> {
  const binary = cli ?? readClusterEnv().cli ?? defaultRedisClusterOptions.cli;
  try {
    await run(binary, ['--version']);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT'
      ? `${binary} was not found on PATH, so no Redis Cluster can be created: install it (Debian/Ubuntu: sudo apt-get install -y redis-tools; macOS: brew install redis) or set REDIS_CLI_BIN`
      : `${binary} --version failed (${(error as Error).message})`;
  }
}

/**
 * Starts `masters` private `redis-server --cluster-enabled yes` nodes on free loopback ports, each in its
 * own temp dir (reaped like {@link startRedis}'s if the test process dies), joins them with
 * `redis-cli --cluster create ... --cluster-replicas 0`, and resolves once every node reports
 * `cluster_state:ok`, within `startTimeoutMs`. Every slot is then served.
 * @throws RedisServerNotFoundError without redis-server; RedisServerStartError when redis-cli fails or
 *   the cluster is not ok in time (with the last `CLUSTER INFO`).
 */
export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const env = readClusterEnv();
  const binary = options.binary ?? env.binary ?? defaultRedisServerOptions.binary;
  const cli = options.cli ?? env.cli ?? defaultRedisClusterOptions.cli;
  const masters = options.masters ?? defaultRedisClusterOptions.masters;
  const deadlineMs =
    performance.now() + (options.startTimeoutMs ?? defaultRedisClusterOptions.startTimeoutMs);
  const host = defaultRedisServerOptions.host;
  const live: LiveNode[] = [];
  const dirs: string[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await Promise.all(
        live.map((node) => stopRedisProcess(node.process, defaultRedisServerOptions.stopTimeoutMs)),
      );
      await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
    })();
    return stopping;
  };

  try {
    const claimed = new Set<number>();
    for (let index = 0; index < masters; index++) {
      const dir = await mkdtemp(join(tmpdir(), 'testkit-redis-cluster-'));
      dirs.push(dir);
      live.push(await launchNode({ binary, host, dir, deadlineMs, claimed }));
    }
    const addresses = live.map(({ port }) => `${host}:${port}`);
    // biome-ignore format: the command as one would type it
    await redisCli(cli, ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], deadlineMs);
    await Promise.all(live.map((node) => waitForClusterOk(node, host, deadlineMs)));
    // Set once the cluster is up, so that the start-up probes and redis-cli need none.
    const { password } = options;
    if (password !== undefined) {
      await Promise.all(live.map(({ port }) => requirePassword(host, port, password, deadlineMs)));
    }
    return {
      nodes: live.map(({ port }) => ({ host, port })),
      nodeList: addresses.join(','),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

interface LiveNode {
  process: RedisProcess;
  port: number;
}

/** One cluster node on a free port, its cluster bus on another (not port + 10 000, which may be past 65 535). */
async function launchNode(plan: {
  binary: string;
  host: string;
  dir: string;
  deadlineMs: number;
  claimed: Set<number>;
}): Promise<LiveNode> {
  const { binary, host, dir, deadlineMs, claimed } = plan;
  for (let attempt = 0; ; attempt++) {
    const port = await findFreePort(host, claimed);
    claimed.add(port);
    const busPort = await findFreePort(host, claimed);
    claimed.add(busPort);
    // biome-ignore format: one option per line, like the redis.conf it stands in for
    const args = serverArgs(port, host, dir, [
      '--cluster-enabled', 'yes',
      '--cluster-config-file', join(dir, 'nodes.conf'),
      '--cluster-port', String(busPort),
      '--cluster-node-timeout', '5000',
    ]);
    try {
      const process = await launchRedisProcess({
        binary,
        args,
        host,
        port,
        dir,
        deadlineMs,
        killTimeoutMs: 5_000,
      });
      return { process, port };
    } catch (error) {
      // Probing for a free port and binding it are not atomic; another process can win.
      if (!(error instanceof RedisPortTakenError) || attempt >= defaultRedisServerOptions.bindRetries)
        throw error;
    }
  }
}

async function redisCli(cli: string, args: readonly string[], deadlineMs: number): Promise<string> {
  const timeout = Math.max(1, Math.round(deadlineMs - performance.now()));
  try {
    const { stdout } = await run(cli, args, { timeout });
    return stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new RedisServerStartError(
      `${cli} ${args.join(' ')} failed: ${(error as Error).message}`,
      `${stdout}${stderr}`,
      { cause: error },
    );
  }
}

/**
 * Waits until the node says `cluster_state:ok`: the nodes learn of each other through the cluster bus
 * after `--cluster create` returns. Polls `CLUSTER INFO` at 5 ms, doubling to 100 ms, woken early if the
 * node dies; bounded by the deadline.
 */
async function waitForClusterOk(node: LiveNode, host: string, deadlineMs: number): Promise<void> {
  let state = 'not asked yet';
  for (let backoffMs = 5; ; backoffMs = Math.min(backoffMs * 2, 100)) {
    const remainingMs = deadlineMs - performance.now();
    if (remainingMs <= 0) break;
    state = await converse(host, node.port, 'CLUSTER INFO\r\n', Math.min(500, remainingMs), (received) => {
      const found = /cluster_state:(\w+)/.exec(received)?.[1];
      return found ?? (received.startsWith('-') ? received.split('\r\n', 1)[0] : undefined);
    });
    if (state === 'ok') return;
    if (await waitForExit(node.process.child, Math.min(backoffMs, remainingMs))) {
      throw new RedisServerStartError(`Redis Cluster node ${host}:${node.port} exited while joining`, '');
    }
  }
  throw new RedisServerStartError(
    `Redis Cluster node ${host}:${node.port} did not reach cluster_state:ok in time (last: ${state})`,
    '',
  );
}

/** Makes the node require `password` of clients, and give it to the other nodes (`masterauth`). */
async function requirePassword(
  host: string,
  port: number,
  password: string,
  deadlineMs: number,
): Promise<void> {
  const quoted = JSON.stringify(password);
  const commands = `CONFIG SET masterauth ${quoted}\r\nCONFIG SET requirepass ${quoted}\r\n`;
  const timeoutMs = Math.max(1, deadlineMs - performance.now());
  const answer = await converse(host, port, commands, timeoutMs, (received) => {
    if (received === '+OK\r\n+OK\r\n') return 'ok';
    return received.includes('-') && received.endsWith('\r\n') ? received.trim() : undefined;
  });
  if (answer !== 'ok') {
    throw new RedisServerStartError(
      `Could not set a password on Redis Cluster node ${host}:${port}: ${answer}`,
      '',
    );
  }
}

/**
 * Sends `commands` (Redis's inline form) and resolves with what `read` makes of the replies received so
 * far, as soon as it makes something of them; or with why not (an error, a timeout). Never rejects.
 */
function converse(
  host: string,
  port: number,
  commands: string,
  timeoutMs: number,
  read: (received: string) => string | undefined,
): Promise<string> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let received = '';
    const finish = (result: string): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => finish(`no answer within ${Math.round(timeoutMs)} ms`));
    socket.once('error', (error) => finish(error.message));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const result = read(received);
      if (result !== undefined) finish(result);
    });
    socket.connect(port, host, () => socket.write(commands));
  });
}
