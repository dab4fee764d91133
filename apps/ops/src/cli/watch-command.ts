import type { JobSummary, QueueStatus } from '@runner/queue';
import type { CliContext } from './cli-context.ts';
import { isBug, oneLine } from './cli-errors.ts';
import { formatTable, toJson } from './format.ts';
import { renderStatus, statusJson } from './status-command.ts';

/** The keyboard: `process.stdin` in the real command, an EventEmitter in tests. */
export interface WatchInput {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  setEncoding?(encoding: BufferEncoding): unknown;
  on(event: 'data', listener: (chunk: string | Buffer) => void): unknown;
  off(event: 'data', listener: (chunk: string | Buffer) => void): unknown;
  resume?(): unknown;
  pause?(): unknown;
}

export interface WatchOptions {
  stdin: WatchInput | undefined;
  /** Whether stdout is a terminal: frames are then redrawn in place. */
  isTTY: boolean;
  /** Time between frames, in ms. */
  intervalMs: number;
  /** Aborted on SIGINT/SIGTERM by `main.ts` (Ctrl-C outside raw mode). */
  signal: AbortSignal | undefined;
}

export const defaultWatchOptions = {
  /** One frame a second, as the issue asks. In ms. */
  intervalMs: 1_000,
  /** Active jobs listed per frame; the rest are counted. */
  activeLimit: 20,
} as const;

// Keys that quit: q, and Ctrl-C / Ctrl-D, which raw mode delivers as bytes instead of signals.
const quitKeys = new Set(['q', 'Q', '\u0003', '\u0004']);

// ANSI: the alternate screen keeps the user's scrollback intact, as top and less do; home + clear redraws.
const enterScreen = '\x1b[?1049h\x1b[?25l';
const leaveScreen = '\x1b[?25h\x1b[?1049l';
const clearScreen = '\x1b[H\x1b[2J';

/**
 * `runner-ops watch`: status plus the active jobs and their live status lines, every `intervalMs`,
 * until q, Ctrl-C or `signal`. On a terminal it redraws in place and puts the terminal back as it was
 * on the way out. With `--json` it writes one JSON document per line per frame
 * (`{"atMs","status","active","error"}`). A Redis that goes away shows as an error frame and the watch
 * carries on: ioredis reconnects by itself.
 */
export async function runWatch(context: CliContext, options: WatchOptions): Promise<void> {
  const { stdin } = options;
  const redraw = options.isTTY && !context.json;
  let stop = (): void => {};
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const onKey = (chunk: string | Buffer): void => {
    if ([...String(chunk)].some((key) => quitKeys.has(key))) stop();
  };
  const onAbort = (): void => stop();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) stop();
  const raw = stdin?.isTTY === true && typeof stdin.setRawMode === 'function';
  if (stdin !== undefined) {
    if (raw) stdin.setRawMode?.(true);
    stdin.setEncoding?.('utf8');
    stdin.on('data', onKey);
    stdin.resume?.();
  }
  if (redraw) context.stdout.write(enterScreen);

  let done = false;
  void stopped.then(() => {
    done = true;
  });
  try {
    while (!done) {
      const frame = await readFrame(context);
      if (done) break;
      context.stdout.write(render(frame, context, redraw));
      await delay(options.intervalMs, stopped);
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    if (redraw) context.stdout.write(leaveScreen);
    if (stdin !== undefined) {
      stdin.off('data', onKey);
      if (raw) stdin.setRawMode?.(false);
      // A paused stdin no longer holds the process open.
      stdin.pause?.();
    }
  }
}

type Frame =
  | { atMs: number; status: QueueStatus; active: JobSummary[]; error: undefined }
  | { atMs: number; status: undefined; active: undefined; error: string };

async function readFrame(context: CliContext): Promise<Frame> {
  const atMs = context.nowMs();
  try {
    const [status, active] = await Promise.all([
      context.inspector.status(),
      context.inspector.jobs({ state: 'active', limit: defaultWatchOptions.activeLimit }),
    ]);
    return { atMs, status, active, error: undefined };
  } catch (error) {
    if (isBug(error)) throw error;
    return { atMs, status: undefined, active: undefined, error: oneLine(error) };
  }
}

function render(frame: Frame, context: CliContext, redraw: boolean): string {
  if (context.json) {
    return `${toJson({
      atMs: frame.atMs,
      status: frame.status === undefined ? undefined : statusJson(frame.status, context.prefix),
      active: frame.active,
      error: frame.error,
    })}\n`;
  }
  const { style } = context;
  const header = `${style.bold('runner-ops watch')}  ${new Date(frame.atMs).toISOString()}  ${style.dim('q or Ctrl-C quits')}`;
  const lines = [header, ''];
  if (frame.error !== undefined) {
    lines.push(style.red(`Redis: ${frame.error}; trying again every second`));
  } else {
    lines.push(...renderStatus(frame.status, context), '', ...renderActive(frame, context));
  }
  // Without a terminal, frames follow one another, a blank line apart, for a log to read later.
  return redraw ? `${clearScreen}${lines.join('\n')}\n` : `${lines.join('\n')}\n\n`;
}

function renderActive(frame: Frame & { error: undefined }, context: CliContext): string[] {
  if (frame.active.length === 0) return [context.style.bold('Active jobs'), 'none'];
  const table = formatTable(
    context.style,
    ['Active job', 'Event', 'Target', 'Attempts', 'Retries', 'Status'],
    frame.active.map((job) => [
      job.id,
      job.event,
      job.target,
      String(job.attempts),
      String(job.retryCount),
      job.status === undefined ? 'running' : { text: job.status, paint: context.style.yellow },
    ]),
    { alignRight: [3, 4], shrink: 5, maxWidth: context.columns },
  );
  const more = frame.status.counts.active - frame.active.length;
  return more > 0 ? [...table, `… and ${more} more`] : table;
}

function delay(ms: number, stopped: Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void stopped.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
