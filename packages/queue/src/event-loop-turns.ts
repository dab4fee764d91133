const waiting: Array<() => void> = [];
let scheduled = false;

function releaseOne(): void {
  scheduled = false;
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
 * intake beside it. Waiting costs a job one turn of the loop (microseconds when the process is idle).
 */
export function nextEventLoopTurn(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    if (!scheduled) schedule();
  });
}
