import { intakeBenchmark } from './intake.ts';
import type { Benchmark } from './lib/benchmark.ts';
import { overheadBenchmark } from './overhead.ts';
import { rateLimitBenchmark } from './rate-limit.ts';

/**
 * Every benchmark `npm run bench` runs, in order; `--only <name>` picks one. Numbered as in the issue.
 * 2 and 3 measure fleet cooperation (the shared cooldown, retry budget and distributed rate limit of
 * `packages/fleet`) and slot in between once it exists: a module exporting a `Benchmark`, listed here.
 */
export const benchmarks: readonly Benchmark[] = [overheadBenchmark, rateLimitBenchmark, intakeBenchmark];
