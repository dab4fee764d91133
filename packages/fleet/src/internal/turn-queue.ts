/**
 * One turn at a time per key, in arrival order. A caller whose signal aborts leaves the line at once;
 * its turn, when it comes, runs nothing. Keys with nobody waiting are forgotten, so one key per GitHub
 * installation does not grow the map.
 */
export class TurnQueue {
  private readonly tails = new Map<string, Promise<void>>();

  run(key: string, signal: AbortSignal | undefined, fn: () => Promise<void>): Promise<void> {
    signal?.throwIfAborted();
    const previous = this.tails.get(key) ?? Promise.resolve();
    const turn = previous.then(() => {
      signal?.throwIfAborted();
      return fn();
    });
    const tail = turn.catch(() => {});
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    if (signal === undefined) return turn;
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      turn.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** Keys with a turn pending or running, for tests. */
  get size(): number {
    return this.tails.size;
  }
}
