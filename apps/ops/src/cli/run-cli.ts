import { ConfigError, loadConfig, type RunnerConfig } from '@runner/config';
import {
  type AgentQueue,
  closeRedis,
  createAgentQueue,
  QueueInspector,
  type RedisClient,
} from '@runner/queue';
import type { CliContext, CliWriter } from './cli-context.ts';
import { CliError, exitCodes, isBug, oneLine, UsageError } from './cli-errors.ts';
import { type Command, parseCommandLine } from './command-line.ts';
import { connectRedis, redactRedisTarget } from './connect-redis.ts';
import { createStyle } from './format.ts';
import { runJob, runJobs } from './jobs-command.ts';
import { runClean, runPause, runRemove, runRetry, runRetryFailed } from './manage-commands.ts';
import { runStatus } from './status-command.ts';
import { commandUsage, mainUsage } from './usage.ts';
import { defaultWatchOptions, runWatch, type WatchInput } from './watch-command.ts';

/** What `runCli` runs against: the real process in `main.ts`, buffers and a test Redis in tests. */
export interface RunCliOptions {
  /** The environment (`REDIS_URL`, `QUEUE_PREFIX`, `NO_COLOR`, ...), `.env` already merged in. */
  env: Readonly<Record<string, string | undefined>>;
  stdout: CliWriter;
  stderr: CliWriter;
  /** Whether stdout is a terminal: colour, and redrawing in place for `watch`. */
  isTTY: boolean;
  /** The clock for relative times, epoch ms. Default `Date.now`. */
  now?: () => number;
  /** Terminal width to fit tables in, in characters. Default `defaultRunCliOptions.columns`. */
  columns?: number;
  /** The keyboard, for `watch` (q quits). None: only `signal` stops it. */
  stdin?: WatchInput;
  /** Aborted by Ctrl-C / SIGTERM: `watch` stops cleanly, another command stops with exit code 130. */
  signal?: AbortSignal;
  /** Time between `watch` frames, in ms. Default 1 000. */
  watchIntervalMs?: number;
  /** How long connecting to Redis may take before giving up, in ms. Default 3 000. */
  connectTimeoutMs?: number;
}

export const defaultRunCliOptions = {
  /** Table width when the terminal's is unknown (output to a pipe or a file). */
  columns: 120,
} as const;

/**
 * Runs one `runner-ops` command line (arguments after the script name) and resolves with its exit code:
 * 0 done, 1 failed, 2 bad command line, 130 interrupted. Never throws for a user's mistake or an outage:
 * those are one line on stderr, without a stack trace. Cleans up every connection it opened.
 * @example process.exitCode = await runCli(process.argv.slice(2), { env, stdout, stderr, isTTY });
 */
export async function runCli(argv: readonly string[], options: RunCliOptions): Promise<number> {
  const fail = (message: string): void => {
    options.stderr.write(`runner-ops: ${message}\n`);
  };
  let command: Command;
  try {
    command = parseCommandLine(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    fail(`${error.message} (see runner-ops --help)`);
    return error.exitCode;
  }
  if (command.name === 'help') {
    options.stdout.write(command.topic === undefined ? mainUsage() : commandUsage(command.topic));
    return exitCodes.ok;
  }

  let config: RunnerConfig;
  try {
    // No `needs`: the CLI only uses Redis, so a missing GitHub key must not stop an operator.
    config = loadConfig(options.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    fail(error.message);
    return exitCodes.failed;
  }

  let session: Session | undefined;
  // A one-shot command stops at once by dropping its connection; `watch` ends its own loop instead.
  const onAbort = (): void => {
    if (command.name !== 'watch') session?.redis.disconnect();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    session = await openSession(config, options.connectTimeoutMs);
    // Ctrl-C while connecting: nothing was done yet, so nothing more is.
    if (options.signal?.aborted && command.name !== 'watch') return exitCodes.interrupted;
    const context: CliContext = {
      inspector: session.inspector,
      prefix: config.queue.prefix,
      json: command.json,
      style: createStyle(options.isTTY, options.env),
      nowMs: options.now ?? Date.now,
      columns: options.columns ?? defaultRunCliOptions.columns,
      stdout: options.stdout,
    };
    await dispatch(command, context, options);
    return exitCodes.ok;
  } catch (error) {
    if (options.signal?.aborted && command.name !== 'watch') return exitCodes.interrupted;
    if (error instanceof CliError) {
      fail(error.message);
      return error.exitCode;
    }
    if (isBug(error)) {
      fail(error instanceof Error ? (error.stack ?? error.message) : String(error));
      return exitCodes.failed;
    }
    // A Redis that went away mid-command says so; any other refusal (a Redis reply, BullMQ) is its message.
    const lost = session !== undefined && session.redis.status !== 'ready';
    fail(lost ? `lost Redis at ${redactRedisTarget(config)} (${oneLine(error)})` : oneLine(error));
    return exitCodes.failed;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await session?.close();
  }
}

async function dispatch(command: Command, context: CliContext, options: RunCliOptions): Promise<void> {
  switch (command.name) {
    case 'help':
      return;
    case 'status':
      return runStatus(context);
    case 'jobs':
      return runJobs(context, command);
    case 'job':
      return runJob(context, command.id);
    case 'retry':
      return runRetry(context, command.id);
    case 'retry-failed':
      return runRetryFailed(context, command.limit);
    case 'remove':
      return runRemove(context, command.id);
    case 'pause':
    case 'resume':
      return runPause(context, command.name === 'pause');
    case 'clean':
      return runClean(context, command);
    case 'watch':
      return runWatch(context, {
        stdin: options.stdin,
        isTTY: options.isTTY,
        intervalMs: options.watchIntervalMs ?? defaultWatchOptions.intervalMs,
        signal: options.signal,
      });
  }
}

interface Session {
  redis: RedisClient;
  inspector: QueueInspector;
  close(): Promise<void>;
}

/** One fail-fast client, shared by the BullMQ queue and the inspector's own reads. */
async function openSession(config: RunnerConfig, connectTimeoutMs: number | undefined): Promise<Session> {
  const redis = await connectRedis(config, {
    ...(connectTimeoutMs === undefined ? {} : { timeoutMs: connectTimeoutMs }),
  });
  // Handed to BullMQ as an instance we own: a connection BullMQ made itself would use its own options
  // (offline queue on, endless retries) and hang on a dead Redis; this one fails at once.
  const queue: AgentQueue = createAgentQueue({
    connection: redis,
    prefix: config.queue.prefix,
    policy: config.retry.job,
  });
  // Errors reach the awaited calls; without a listener an emitted 'error' would crash the process.
  queue.on('error', () => {});
  return {
    redis,
    inspector: new QueueInspector(queue, redis, config.queue.prefix),
    async close() {
      // BullMQ leaves a client it was given open, so it is closed here, even when the queue's close fails.
      await queue.close().catch(() => {});
      await closeRedis(redis);
    },
  };
}
