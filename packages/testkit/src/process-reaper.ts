import { type ChildProcess, spawn } from 'node:child_process';
import { Socket } from 'node:net';

// Reads "+PID DIR" / "-PID" lines on stdin. Its stdin closes when the test process dies in
// any way (SIGTERM, SIGKILL, worker teardown); it then empties each listed dir of the files
// redis-server writes there (a cluster node's nodes.conf, an RDB or AOF), removes the dir if
// that left it empty (rmdir, never rm -r, so a mistake cannot delete data), and SIGKILLs each
// listed pid; then once more for what a server wrote in between.
const reaperScript = `
set -f
nl='
'
live=""
while IFS= read -r line; do
  case "$line" in
    +*) live="$live\${line#+}$nl" ;;
    -*)
      next=""
      IFS=$nl
      for entry in $live; do [ "\${entry%% *}" = "\${line#-}" ] || next="$next$entry$nl"; done
      unset IFS
      live=$next ;;
  esac
done
empty_dir() {
  [ -n "$1" ] || return 0
  set +f
  rm -f "$1/nodes.conf" "$1/dump.rdb" "$1"/appendonlydir/appendonly.aof.* 2>/dev/null
  set -f
  rmdir "$1/appendonlydir" "$1" 2>/dev/null
}
IFS=$nl
for entry in $live; do
  empty_dir "\${entry#* }"
  kill -KILL "\${entry%% *}" 2>/dev/null
  empty_dir "\${entry#* }"
done
`;

let reaper: ChildProcess | undefined;
let unavailable = false;

function startReaper(): ChildProcess | undefined {
  // Redis does not run natively on Windows, and there is no POSIX sh to reap with.
  if (unavailable || process.platform === 'win32') return undefined;
  if (reaper !== undefined) return reaper;
  const giveUp = (): void => {
    // The process.on('exit') hook is then the only safety net left.
    unavailable = true;
    reaper = undefined;
  };
  // Its own process group, so a terminal Ctrl-C cannot kill it before it has reaped.
  const child = spawn('/bin/sh', ['-c', reaperScript], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  child.on('error', giveUp);
  child.stdin?.on('error', giveUp);
  // The reaper must never keep the test process alive.
  child.unref();
  if (child.stdin instanceof Socket) child.stdin.unref();
  reaper = child;
  return child;
}

/**
 * Makes sure `pid` is killed, and `dir` removed if empty, even if this process dies
 * without running exit hooks, e.g. when a test runner SIGTERMs or SIGKILLs its worker.
 * Best effort: a no-op where there is no `/bin/sh`.
 */
export function reapOnDeath(pid: number, dir: string): void {
  // A newline would split the entry; such a dir is just left behind.
  const safeDir = dir.includes('\n') ? '' : dir;
  startReaper()?.stdin?.write(`+${pid} ${safeDir}\n`);
}

/** Stops watching `pid` (call once it has exited, so a reused pid is never killed). */
export function stopReaping(pid: number): void {
  reaper?.stdin?.write(`-${pid}\n`);
}
