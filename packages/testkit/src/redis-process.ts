import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { reapOnDeath, stopReaping } from './process-reaper.ts';
import { RedisPortTakenError, RedisServerNotFoundError, RedisServerStartError } from './redis-errors.ts';
import { probeRedis } from './redis-probe.ts';

/** What it takes to launch one redis-server child. */
export interface RedisLaunchPlan {
  readonly binary: string;
  readonly args: readonly string[];
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  /** `performance.now()` value by which it must answer PING. */
  readonly deadlineMs: number;
  readonly killTimeoutMs: number;
}

/** A running redis-server child and its temp dir. */
export interface RedisProcess {
  readonly child: ChildProcess;
  readonly dir: string;
}

// A single probe should not eat the whole start budget if a connect stalls.
const probeTimeoutMs = 500;
// redis-server is usually up within a few ms; start polling fast, then back off.
const probeBackoffMs = { first: 5, max: 100 } as const;
const outputTailChars = 4_000;
const bindFailurePattern = /address already in use|failed listening on port/i;

// Children to kill if the test process exits without calling stop().
const liveProcesses = new Set<RedisProcess>();
let exitHookInstalled = false;

function killLiveProcessesSync(): void {
  for (const live of liveProcesses) {
    live.child.kill('SIGKILL');
    try {
      rmSync(live.dir, { recursive: true, force: true });
    } catch {
      // A stray temp dir is harmless; throwing from an exit hook would mask the real exit.
    }
  }
}

function track(live: RedisProcess): void {
  liveProcesses.add(live);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', killLiveProcessesSync);
  }
  // Exit hooks do not run when a test runner SIGTERMs or SIGKILLs its worker (Vitest's
  // forks pool does), so a watcher process also kills the child if we die.
  const pid = live.child.pid;
  if (pid !== undefined) {
    reapOnDeath(pid, live.dir);
    live.child.once('exit', () => stopReaping(pid));
  }
  // A forgotten stop() must not keep the test process alive; the hooks above kill the child.
  live.child.unref();
  for (const stream of [live.child.stdout, live.child.stderr]) if (stream instanceof Socket) stream.unref();
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves true once `child` has exited, or false after `timeoutMs`. */
export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    child.once('exit', onExit);
  });
}

function spawned(child: ChildProcess, binary: string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (error: NodeJS.ErrnoException) => {
      const cause = { cause: error };
      if (error.code === 'ENOENT') reject(new RedisServerNotFoundError(binary, cause));
      else reject(new RedisServerStartError(`Could not run "${binary}": ${error.message}`, '', cause));
    });
  });
}

/**
 * Stops a redis-server child: `signal` (SIGTERM by default), then SIGKILL if it has not exited within
 * `killTimeoutMs`. Does not remove its dir.
 */
export async function stopRedisProcess(
  live: RedisProcess,
  killTimeoutMs: number,
  signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM',
): Promise<void> {
  if (!hasExited(live.child)) {
    live.child.kill(signal);
    if (!(await waitForExit(live.child, killTimeoutMs))) {
      live.child.kill('SIGKILL');
      await waitForExit(live.child, killTimeoutMs);
    }
  }
  liveProcesses.delete(live);
}

/**
 * Spawns redis-server and resolves once it answers PING on the planned port. Rejects with
 * {@link RedisServerNotFoundError} if the binary is missing, {@link RedisPortTakenError} if
 * the port was taken, or {@link RedisServerStartError} (with its output) otherwise.
 */
export async function launchRedisProcess(plan: RedisLaunchPlan): Promise<RedisProcess> {
  const { host, port } = plan;
  const child = spawn(plan.binary, plan.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-outputTailChars);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  await spawned(child, plan.binary);
  const live: RedisProcess = { child, dir: plan.dir };
  track(live);

  let backoffMs: number = probeBackoffMs.first;
  let lastReason = 'not probed yet';
  for (;;) {
    if (hasExited(child)) {
      // 'close' comes after the last output chunk, so the error carries the full tail.
      await closed;
      liveProcesses.delete(live);
      const message = `redis-server exited during startup on port ${port} (code ${child.exitCode}, signal ${child.signalCode})`;
      throw bindFailurePattern.test(output)
        ? new RedisPortTakenError(message, output)
        : new RedisServerStartError(message, output);
    }
    const remainingMs = plan.deadlineMs - performance.now();
    if (remainingMs <= 0) {
      child.kill('SIGKILL');
      await waitForExit(child, plan.killTimeoutMs);
      liveProcesses.delete(live);
      const message = `redis-server on ${host}:${port} did not answer PING in time (last probe: ${lastReason})`;
      throw new RedisServerStartError(message, output);
    }
    const probe = await probeRedis(host, port, Math.min(probeTimeoutMs, remainingMs));
    // Matching the pid tells our server apart from another one that grabbed the port first.
    if (probe.ok && probe.pid === child.pid) return live;
    lastReason = probe.ok
      ? `port answered as pid ${probe.pid}, not our pid ${child.pid}; REDIS_SERVER_BIN must exec redis-server`
      : probe.reason;
    // Waiting on exit rather than a plain timer wakes us early if the child dies, so a
    // bind failure is reported without waiting out the backoff.
    await waitForExit(child, Math.min(backoffMs, remainingMs));
    backoffMs = Math.min(backoffMs * 2, probeBackoffMs.max);
  }
}
