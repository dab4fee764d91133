import { type Random, seededRandom } from '@runner/retry';

/** What one run of an arm gets: which repetition it is, and randomness both arms of the pair share. */
export interface Repetition {
  /** 0, 1, 2, ...; -1 for the warm-up pair. */
  index: number;
  warmup: boolean;
  /** The pair's seed: both arms of repetition `index` get `seededRandom(seed + index)`. */
  seed: number;
  random: Random;
}

/** One side of an A/B comparison. */
export interface Arm<T> {
  name: string;
  run(repetition: Repetition): Promise<T>;
}

export interface InterleaveOptions<T> {
  a: Arm<T>;
  b: Arm<T>;
  /** Measured pairs; at least 3, so that a median means something. */
  repetitions: number;
  seed: number;
  /** Run one pair first and discard it (JIT, connection pools, Redis allocations). Default true. */
  warmup?: boolean;
  /** Progress, one line per run. */
  log?: (line: string) => void;
  /** How a result reads in the progress line, e.g. `1 234 jobs/s`. */
  describe?: (result: T) => string;
}

/**
 * Runs two arms interleaved, A B A B ..., so that whatever drifts during the run (CPU frequency, a
 * noisy neighbour, Redis memory) falls on both arms alike; each pair shares a seed. Returns each arm's
 * raw results in repetition order (the warm-up pair left out).
 * No forced GC between runs: V8's `gc()` is a memory-reducing collection that also drops compiled code,
 * and it made the run after it up to twice as costly as the same run without it.
 */
export async function interleave<T>(options: InterleaveOptions<T>): Promise<{ a: T[]; b: T[] }> {
  const [a, b] = await interleaveArms({ ...options, arms: [options.a, options.b] });
  return { a: a as T[], b: b as T[] };
}

export interface InterleaveArmsOptions<T> extends Omit<InterleaveOptions<T>, 'a' | 'b'> {
  /** Run in this order within each repetition: A B C, A B C, ... */
  arms: readonly Arm<T>[];
}

/** `interleave` for any number of arms: each repetition runs every arm once, in order, on one seed. */
export async function interleaveArms<T>(options: InterleaveArmsOptions<T>): Promise<T[][]> {
  if (options.repetitions < 3)
    throw new RangeError(`interleave: at least 3 repetitions, got ${options.repetitions}`);
  const results = options.arms.map(() => [] as T[]);
  const first = options.warmup === false ? 0 : -1;
  for (let index = first; index < options.repetitions; index += 1) {
    for (const [side, arm] of options.arms.entries()) {
      const seed = options.seed + index;
      const repetition = { index, warmup: index < 0, seed, random: seededRandom(seed) };
      const started = performance.now();
      const result = await arm.run(repetition);
      const label = index < 0 ? 'warm-up' : `${index + 1}/${options.repetitions}`;
      const took = `${((performance.now() - started) / 1000).toFixed(1)} s`;
      options.log?.(`  ${arm.name} ${label}: ${options.describe?.(result) ?? ''} (${took})`);
      if (index >= 0) results[side]?.push(result);
    }
  }
  return results;
}
