// The `runner-ops` command: `npm run ops -- <command>` from the repository root, or the installed
// `runner-ops`. Everything but the process wiring is in run-cli.ts, so tests run it in-process.
import { fileURLToPath } from 'node:url';
import { withDotEnv } from '@runner/config';
import { runCli } from './run-cli.ts';

// People write their .env at the repository root, beside .env.example; a variable set in the
// environment still wins.
const dotEnvPath = fileURLToPath(new URL('../../../../.env', import.meta.url));

// `runner-ops jobs | head` closes the pipe early; that is the reader's choice, not an error to report.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

// Ctrl-C outside raw mode, or a supervisor's SIGTERM: `watch` restores the terminal and ends, a one-shot
// command drops its connection and ends with 130. A second one does not wait for that.
const interrupt = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort();
  });
}

const code = await runCli(process.argv.slice(2), {
  env: withDotEnv(undefined, dotEnvPath),
  stdout: process.stdout,
  stderr: process.stderr,
  isTTY: process.stdout.isTTY === true,
  now: Date.now,
  ...(process.stdout.columns === undefined ? {} : { columns: process.stdout.columns }),
  // A getter: only `watch` reads the keyboard, and merely touching process.stdin opens a handle on it.
  get stdin() {
    return process.stdin;
  },
  signal: interrupt.signal,
});
process.exitCode = code;
// Exit once the output is flushed rather than when the event loop drains: a paused TTY stdin or a
// socket closing slowly must not keep a finished command alive.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
