import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The apps' entry points, run as `npm run worker` and friends run them. */
export const appEntry = {
  worker: 'apps/worker/src/main.ts',
  webhooks: 'apps/webhooks/src/main.ts',
  opsServer: 'apps/ops/src/server/main.ts',
} as const;

/** One app running as a process of its own, configured by its environment alone. */
export interface AppProcess {
  child: ChildProcess;
  /** Everything it has written to stdout and stderr so far. */
  output(): string;
  /** Resolves when it logs a line whose message starts with `message`; rejects if it exits first. */
  logged(message: string): Promise<Record<string, unknown>>;
  /** SIGKILL (or `signal`), then waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  exited(): boolean;
}

/** Starts `app` with `env` only (and PATH), so a test sees what a deployment sees. */
export function spawnApp(app: keyof typeof appEntry, env: Record<string, string>): AppProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', appEntry[app]], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const lines: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output += text;
    const split = (partial + text).split('\n');
    partial = split.pop() ?? '';
    for (const line of split) {
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // Not a log line (a stack trace from a crash): kept in output() only.
      }
    }
    for (const wake of waiters) wake();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = () => child.exitCode !== null || child.signalCode !== null;

  return {
    child,
    output: () => output,
    exited,
    logged: (message) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const line = lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith(message));
          if (!line) return;
          waiters.delete(check);
          resolve(line);
        };
        waiters.add(check);
        check();
        child.once('exit', () => {
          if (!waiters.has(check)) return;
          waiters.delete(check);
          reject(new Error(`${app} exited before logging "${message}":\n${output.slice(-2_000)}`));
        });
      }),
    async kill(signal = 'SIGKILL') {
      if (exited()) return;
      const exit = once(child, 'exit');
      child.kill(signal);
      await exit;
    },
  };
}
