const waiting: Array<() => void> = [];
let scheduled = false;

/** Requests in flight in this process (`holdJobStarts`): job starts wait for them. */
let holds = 0;
/** Since when a waiter has been kept back by holds (`performance.now()`), or undefined. */
let deferringSince: number | undefined;
let deferTimer: NodeJS.Timeout | undefined;

/**
 * Longest a job start waits for requests in flight, in ms: under a steady stream of requests, jobs still
 * start at least this often.
 */
export const maxJobStartDeferMs = 20;

function releaseOne(): void {
  scheduled = false;
  if (waiting.length === 0) return;
  if (holds > 0) {
    const now = performance.now();
    deferringSince ??= now;
    const leftMs = deferringSince + maxJobStartDeferMs - now;
    if (leftMs > 0) {
      // No setImmediate while held, which would spin the loop: the last release or the timer schedules.
      deferTimer ??= setTimeout(() => {
        deferTimer = undefined;
        if (!scheduled) schedule();
      }, Math.ceil(leftMs));
      return;
    }
  }
  deferringSince = undefined;
  waiting.shift()?.();
  // Scheduled from inside the check phase, the next release waits for the next turn of the loop: the
  // poll phase (sockets, incoming requests, Redis replies) runs in between.
  if (waiting.length > 0) schedule();
}

function schedule(): void {
  scheduled = true;
  setImmediate(releaseOne);
}

/**
 * Resolves in a turn of the event loop of its own: of all the callers waiting, one is let go per turn,
 * in the order they came. Jobs whose starts arrive together (BullMQ hands a worker several in one socket
 * read) would otherwise run their synchronous work back to back in one turn, and a saturated worker
 * would hold off everything else in the process for all of it: its own lock renewals and `/readyz`, an
 * intake beside it. Waiting costs a job one turn of the loop (microseconds when the process is idle),
 * and while a request holds job starts ({@link holdJobStarts}), until it ends or for at most
 * {@link maxJobStartDeferMs}.
 */
export function nextEventLoopTurn(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    if (!scheduled && deferTimer === undefined) schedule();
  });
}

/**
 * Marks a request in flight in this process (the intake's webhook, a probe): until the returned function
 * is called, jobs wait to start ({@link nextEventLoopTurn}), for at most {@link maxJobStartDeferMs} at a
 * time. A delivery waits on several turns of the loop (its body, each Redis reply); beside a saturated
 * worker each of them would also hold a job's synchronous work, and GitHub's 10 s deadline is the
 * request's, while a job waiting a few ms more in Redis loses nothing. Calling the function again does
 * nothing.
 */
export function holdJobStarts(): () => void {
  holds += 1;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    holds -= 1;
    if (holds === 0 && waiting.length > 0 && !scheduled) {
      clearTimeout(deferTimer);
      deferTimer = undefined;
      schedule();
    }
  };
}
