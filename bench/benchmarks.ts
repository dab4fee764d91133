import { intakeBenchmark } from './intake.ts';
import type { Benchmark } from './lib/benchmark.ts';
import { outageBenchmark } from './outage.ts';
import { overheadBenchmark } from './overhead.ts';
import { rateLimitBenchmark } from './rate-limit.ts';
import { scalingBenchmark } from './scaling.ts';

/**
 * Every benchmark `npm run bench` runs, in order; `--only <name>` picks one. Numbered as in the issue;
 * 2 and 3 measure fleet cooperation (the shared cooldown, retry budget, rate limit and circuit of
 * `packages/fleet`).
 */
export const benchmarks: readonly Benchmark[] = [
  overheadBenchmark,
  rateLimitBenchmark,
  outageBenchmark,
  intakeBenchmark,
];

/** Benchmarks outside the default run and its 5-minute budget; `--only <name>` runs one. */
export const extraBenchmarks: readonly Benchmark[] = [scalingBenchmark];
