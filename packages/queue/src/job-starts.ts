// When a job may begin its synchronous work, so that a saturated worker shares the event loop: with its
// own lock renewals and `/readyz`, and with an intake in the same process.

const waiting: Array<() => void> = [];
/** A waiter was let go and the release goes on once its synchronous work is done (`afterWork`). */
let releasing = false;
/** A release waits for the check phase of the loop (`setImmediate`). */
let turnScheduled = false;
/** When this slice of job starts began (`performance.now()`); undefined once a check phase ended it. */
let sliceStartedAt: number | undefined;

/** Requests in flight in this process (`holdJobStarts`): job starts wait for them. */
let holds = 0;
/** Since when a waiter has been kept back by holds (`performance.now()`), or undefined. */
let deferringSince: number | undefined;
let deferTimer: NodeJS.Timeout | undefined;

/**
 * Most time, in ms, that jobs starting one after another may take before the loop gets a turn for its
 * other work. Shorter jobs start several to a turn; a job longer than this has its turn to itself.
 */
export const jobStartSliceMs = 1;

/**
 * Longest a job start waits for requests in flight, in ms: under a steady stream of requests, jobs still
 * start at least this often.
 */
export const maxJobStartDeferMs = 20;

function endSlice(): void {
  sliceStartedAt = undefined;
}

function scheduleTurn(): void {
  turnScheduled = true;
  setImmediate(releaseNext);
}

// Queued as a microtask right after a waiter is let go, the tick runs once every microtask has run: the
// waiter's synchronous work, up to its first wait on I/O, is then over and counted in the slice.
function afterWork(): void {
  process.nextTick(releaseNext);
}

function releaseNext(): void {
  turnScheduled = false;
  releasing = false;
  if (waiting.length === 0) return;
  const now = performance.now();
  if (holds > 0) {
    deferringSince ??= now;
    const leftMs = deferringSince + maxJobStartDeferMs - now;
    if (leftMs > 0) {
      // No setImmediate while held, which would spin the loop: the last release or the timer goes on.
      deferTimer ??= setTimeout(() => {
        deferTimer = undefined;
        if (!turnScheduled && !releasing) scheduleTurn();
      }, Math.ceil(leftMs));
      return;
    }
  }
  if (sliceStartedAt === undefined) {
    sliceStartedAt = now;
    // Started from a check phase, the slice lasts into the next turn's; its poll phase runs in between.
    setImmediate(endSlice);
  } else if (now - sliceStartedAt >= jobStartSliceMs) {
    // The check phase ends this slice before the release runs, which opens the next.
    scheduleTurn();
    return;
  }
  deferringSince = undefined;
  releasing = true;
  waiting.shift()?.();
  queueMicrotask(afterWork);
}

/**
 * Resolves when the job may start, in the order jobs asked: at once while the jobs started since the last
 * check phase of the loop have taken less than {@link jobStartSliceMs} altogether, else in a later turn of
 * the loop. Jobs are let go one at a time, each once the previous one's synchronous work is done. Without
 * this, jobs handed over together (BullMQ hands a worker several in one socket read) would run their
 * synchronous work back to back, and a saturated worker would hold off everything else in the process
 * for all of it. One job per turn would do too, but costs a turn of the loop (a poll and its system calls)
 * for each job: a bare BullMQ worker with a no-op job drains a third fewer jobs a second that way
 * (bench/README.md). While a request holds job starts ({@link holdJobStarts}), jobs wait until it ends,
 * or for at most {@link maxJobStartDeferMs}.
 */
export function waitForJobStart(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    if (!releasing && !turnScheduled && deferTimer === undefined) releaseNext();
  });
}

/**
 * Marks a request in flight in this process (the intake's webhook, a probe): until the returned function
 * is called, jobs wait to start ({@link waitForJobStart}), for at most {@link maxJobStartDeferMs} at a
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
    if (holds === 0 && waiting.length > 0 && !turnScheduled && !releasing) {
      clearTimeout(deferTimer);
      deferTimer = undefined;
      scheduleTurn();
    }
  };
}
