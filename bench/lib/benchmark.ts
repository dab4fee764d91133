import type { Summary } from './stats.ts';

/** What every benchmark gets from the harness (`bench/run.ts`). */
export interface BenchContext {
  /** `--quick`: the short version (about a minute and a half), fewer jobs and shorter phases, same shape. */
  quick: boolean;
  /** The run's seed; each A/B pair derives its own from it, the same for both arms. */
  seed: number;
  /** The run's private redis-server. */
  redisUrl: string;
  /** A temp dir for log files and such, removed after the run. */
  tempDir: string;
  /** The repository root, for spawning the apps as processes. */
  repoRoot: string;
  /** Progress for people watching, on stderr; results go in the rows. */
  log(line: string): void;
}

/** A target from the issue: the result must be `>=` or `<=` this. */
export interface Target {
  op: '>=' | '<=';
  value: number;
}

/** One arm's measure over the repetitions. */
export interface ArmMeasure extends Summary {
  name: string;
  unit: string;
}

/** What a row reports: a median of paired per-repetition values (a ratio), or a total over phases. */
export interface Outcome {
  /** `runner ÷ bare`, `busy ÷ idle`, `added ms per job`, `responses > 10 s`. */
  label: string;
  unit: string;
  of: 'median' | 'sum';
  /** The figure held against the target. */
  value: number;
  raw: number[];
  min: number;
  max: number;
}

/** One line of the results table. */
export interface ResultRow {
  measure: string;
  /** A and B, in the order they ran. */
  arms?: readonly [ArmMeasure, ArmMeasure];
  outcome: Outcome;
  target?: Target;
  /** Whether `outcome.value` meets `target`; absent when there is no target. */
  met?: boolean;
}

export interface BenchmarkResult {
  rows: ResultRow[];
  /** How it was measured, and anything a reader should know to trust (or distrust) the rows. */
  notes: string[];
  /** Per-repetition detail beyond the rows, for latest.json. */
  details?: Record<string, unknown>;
}

/** One benchmark of the registry (`bench/benchmarks.ts`). */
export interface Benchmark {
  /** For `--only <name>`. */
  name: string;
  title: string;
  run(context: BenchContext): Promise<BenchmarkResult>;
}

export function meetsTarget(value: number, target: Target): boolean {
  // A ratio of counts that is exactly the target can come out a hair beside it in floating point
  // (2 108 answers ÷ 2 635, each over the same window, gives 0.7999999999999999).
  const tolerance = 1e-9 * Math.max(1, Math.abs(target.value));
  return target.op === '>=' ? value >= target.value - tolerance : value <= target.value + tolerance;
}

/** A row whose outcome is the median of paired values, checked against `target` when given. */
export function row(
  measure: string,
  outcome: Outcome,
  arms?: readonly [ArmMeasure, ArmMeasure],
  target?: Target,
): ResultRow {
  return {
    measure,
    ...(arms === undefined ? {} : { arms }),
    outcome,
    ...(target === undefined ? {} : { target, met: meetsTarget(outcome.value, target) }),
  };
}

export function medianOutcome(label: string, unit: string, summary: Summary): Outcome {
  return {
    label,
    unit,
    of: 'median',
    value: summary.median,
    raw: summary.raw,
    min: summary.min,
    max: summary.max,
  };
}

export function sumOutcome(label: string, unit: string, values: readonly number[]): Outcome {
  return {
    label,
    unit,
    of: 'sum',
    value: values.reduce((sum, value) => sum + value, 0),
    raw: [...values],
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

export function armMeasure(name: string, unit: string, summary: Summary): ArmMeasure {
  return { name, unit, ...summary };
}
