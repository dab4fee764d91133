import type { QueueInspector } from '@runner/queue';
import { type Style, toJson } from './format.ts';

/** Where output goes: `process.stdout` in the real command, a string buffer in tests. */
export interface CliWriter {
  write(text: string): unknown;
}

/** What a command gets: the queue, the clock and a way to print, for people or for scripts. */
export interface CliContext {
  inspector: QueueInspector;
  /** `QUEUE_PREFIX`, shown so that nobody inspects the wrong queue without noticing. */
  prefix: string;
  /** True for `--json`: one JSON document on stdout, nothing else. */
  json: boolean;
  style: Style;
  /** Epoch ms, for relative times. */
  nowMs(): number;
  /** Width to fit tables in, in characters. */
  columns: number;
  stdout: CliWriter;
}

/** Writes lines for people, each ending in a newline. */
export function printLines(context: Pick<CliContext, 'stdout'>, lines: string | readonly string[]): void {
  const text = typeof lines === 'string' ? lines : lines.join('\n');
  context.stdout.write(`${text}\n`);
}

/** Writes the one JSON document of a `--json` command, indented for people who look at it too. */
export function printJson(context: Pick<CliContext, 'stdout'>, value: unknown): void {
  context.stdout.write(`${toJson(value, 2)}\n`);
}
