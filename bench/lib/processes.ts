import { type ChildProcess, type ForkOptions, fork, type SpawnOptions, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

const live = new Set<ChildProcess>();
// However the run ends (a thrown error, the watchdog, Ctrl-C), no server is left listening behind it.
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** `node --import tsx <file> ...args`, killed when this process exits. */
export function spawnTsx(file: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  return track(spawn(process.execPath, ['--import', 'tsx', file, ...args], options));
}

/** Like `spawnTsx`, with an IPC channel (`child.send`, `process.send`). */
export function forkTsx(file: string, args: readonly string[], options: ForkOptions): ChildProcess {
  return track(fork(file, [...args], { ...options, execArgv: ['--import', 'tsx'] }));
}

/** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
export async function stopProcess(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Polls `url` until it answers 200; fails at once if `child` exits first, or after `timeoutMs`. */
export async function waitForHttp(url: string, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadlineMs = performance.now() + timeoutMs;
  while (performance.now() < deadlineMs) {
    if (child && (child.exitCode !== null || child.signalCode !== null))
      throw new Error(
        `${child.spawnargs.join(' ')} exited (${child.exitCode ?? child.signalCode}) before ${url} answered`,
      );
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(50);
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}
