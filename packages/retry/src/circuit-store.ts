/** The three states of a circuit, as in Fowler's and cockatiel's breakers. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** Everything a circuit knows, kept in a store so that several processes can share one circuit. */
export interface CircuitSnapshot {
  state: CircuitState;
  /** Retryable failures since the last success. */
  consecutiveFailures: number;
  /** Start of the current failure-rate window, epoch ms. */
  windowStartMs: number;
  windowRequests: number;
  windowFailures: number;
  /** While open: when a probe may go through. Epoch ms. */
  retryAtMs: number;
  /** While half-open: the probe in flight holds the circuit until then, so a crashed prober does not hold it forever. Epoch ms. */
  probeLeaseUntilMs: number;
  /** Bumped by every write; the store's compare-and-set checks it. */
  version: number;
}

/**
 * Where circuits live. The breaker keeps its logic and asks the store only to read a snapshot and to
 * replace it if nobody else has since, so a Redis store needs no more than one small atomic script.
 */
export interface CircuitStore {
  read(key: string): Promise<CircuitSnapshot | undefined>;
  /** Writes `next` only if the stored version is still `expectedVersion` (0 when absent). Returns whether it wrote. */
  compareAndSet(key: string, expectedVersion: number, next: CircuitSnapshot): Promise<boolean>;
}

/** One process's circuits. */
export class InMemoryCircuitStore implements CircuitStore {
  private readonly circuits = new Map<string, CircuitSnapshot>();

  async read(key: string): Promise<CircuitSnapshot | undefined> {
    const snapshot = this.circuits.get(key);
    return snapshot && { ...snapshot };
  }

  async compareAndSet(key: string, expectedVersion: number, next: CircuitSnapshot): Promise<boolean> {
    if ((this.circuits.get(key)?.version ?? 0) !== expectedVersion) return false;
    this.circuits.set(key, { ...next });
    return true;
  }
}
