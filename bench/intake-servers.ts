import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { loadConfig } from '@runner/config';
import { findFreePort } from '@runner/testkit';
import { createIntakeLogger, startIntake } from '@runner/webhooks';
import { pino } from 'pino';
import { startBareIntake } from './bare-intake.ts';
import { spawnTsx, stopProcess, waitForHttp } from './lib/processes.ts';

/** Where the intake runs: in the process that runs the workers (this one), or in a process of its own. */
export type Placement = 'workers-process' | 'own-process';

export interface IntakeServerOptions {
  placement: Placement;
  redisUrl: string;
  prefix: string;
  secret: string;
  /** Where the intake's log lines go (the runner's intake logs one line per delivery at `info`). */
  logFile: string;
  repoRoot: string;
}

export interface IntakeServer {
  /** POST deliveries here. */
  webhooksUrl: string;
  /** CPU time the process running the intake has used so far (all its threads). In ms. */
  cpuMs(): Promise<number>;
  close(): Promise<void>;
}

const host = '127.0.0.1';
/** Linux's USER_HZ is 100 on every common architecture. */
const clockTickMs = 10;
const startTimeoutMs = 30_000;

/** The environment `npm run webhooks` would be given; `LOG_LEVEL=info` is the production default. */
function intakeEnv(options: IntakeServerOptions, port: number): Record<string, string> {
  return {
    REDIS_URL: options.redisUrl,
    QUEUE_PREFIX: options.prefix,
    WEBHOOKS_PORT: String(port),
    GITHUB_WEBHOOK_SECRET: options.secret,
    GITHUB_APP_SLUG: 'runner-app',
    LOG_LEVEL: 'info',
  };
}

/**
 * The real intake (`startIntake`): in this process, logging through pino to `logFile` synchronously as
 * it logs to stdout in production; or as `node --import tsx apps/webhooks/src/main.ts` with its stdout
 * on `logFile`, configured by its environment alone.
 */
export async function startRunnerIntake(options: IntakeServerOptions): Promise<IntakeServer> {
  if (options.placement === 'workers-process') {
    const config = loadConfig(intakeEnv(options, 0), { needs: ['webhooks'] });
    const logger = createIntakeLogger(
      config.logLevel,
      pino.destination({ dest: options.logFile, sync: true }),
    );
    const intake = await startIntake(config, logger, { host });
    return { webhooksUrl: `${intake.url}/webhooks`, cpuMs: ownCpuMs, close: intake.close };
  }
  const port = await findFreePort(host);
  return startProcess(options, 'apps/webhooks/src/main.ts', [], intakeEnv(options, port), port);
}

/** The baseline (`bare-intake.ts`), in this process or as `bench/bare-intake-main.ts`. */
export async function startBaselineIntake(options: IntakeServerOptions): Promise<IntakeServer> {
  const bare = { redisUrl: options.redisUrl, prefix: options.prefix, secret: options.secret, host };
  if (options.placement === 'workers-process') {
    const intake = await startBareIntake({ ...bare, port: 0 });
    return { webhooksUrl: `${intake.url}/webhooks`, cpuMs: ownCpuMs, close: intake.close };
  }
  const port = await findFreePort(host);
  return startProcess(options, 'bench/bare-intake-main.ts', [JSON.stringify({ ...bare, port })], {}, port);
}

async function startProcess(
  options: IntakeServerOptions,
  file: string,
  args: readonly string[],
  env: Record<string, string>,
  port: number,
): Promise<IntakeServer> {
  const log = openSync(options.logFile, 'a');
  const child = spawnTsx(file, args, {
    cwd: options.repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', log, 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2_000);
  });
  const url = `http://${host}:${port}`;
  const close = async () => {
    await stopProcess(child);
    closeSync(log);
  };
  try {
    await waitForHttp(`${url}/healthz`, startTimeoutMs, child);
  } catch (error) {
    await close();
    throw new Error(
      `${file} did not start: ${error instanceof Error ? error.message : String(error)}\n${stderr}`,
    );
  }
  return { webhooksUrl: `${url}/webhooks`, cpuMs: () => childCpuMs(child.pid), close };
}

function ownCpuMs(): Promise<number> {
  const { user, system } = process.cpuUsage();
  return Promise.resolve((user + system) / 1000);
}

/**
 * A child's CPU time from `/proc/<pid>/stat` (utime + stime, fields 14 and 15, in clock ticks of
 * 10 ms on Linux); NaN where there is no /proc.
 */
async function childCpuMs(pid: number | undefined): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * clockTickMs;
  } catch {
    return Number.NaN;
  }
}
