// `npm run bench` (`-- --quick` for the short version, about a minute and a half on 2 cores, `-- --only <name>` for one benchmark).
// One private redis-server for the run; every benchmark on loopback; results to bench/results/latest.json
// and a markdown table on stdout. Exits 0 when a target is missed (the table marks it ✗), 1 when a
// benchmark could not run.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startRedis } from '@runner/testkit';
import { benchmarks, extraBenchmarks } from './benchmarks.ts';
import type { BenchContext, BenchmarkResult, ResultRow } from './lib/benchmark.ts';
import { formatNumber, formatRatio, formatSummary } from './lib/format.ts';
import { describeMachine, formatMachine } from './lib/machine.ts';
import { markdownTable } from './lib/markdown-table.ts';

const runOptions = {
  /** The run's seed unless `--seed` says otherwise: the same jitter and payloads from run to run. */
  seed: 20_240_601,
  /** The whole run is stopped after this, so that a wedged benchmark cannot hang CI. In ms. */
  watchdogMs: { quick: 4 * 60_000, full: 9 * 60_000 },
} as const;

const repoRoot = fileURLToPath(new URL('../', import.meta.url));

let values: { quick: boolean; only?: string | undefined; seed?: string | undefined };
try {
  ({ values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      seed: { type: 'string' },
    },
  }));
} catch (error) {
  process.stderr.write(
    `${error instanceof Error ? error.message : String(error)}\nUsage: npm run bench -- [--quick] [--only <name>] [--seed <integer>]\n`,
  );
  process.exit(2);
}
const quick = values.quick;
// A run of one benchmark, or a quick run, keeps its own file, so that it does not replace the full run
// the README quotes: `<name>.json`, `quick.json` (`<name>-quick.json` for both).
const resultsName = [values.only ?? (quick ? undefined : 'latest'), quick ? 'quick' : undefined]
  .filter((part) => part !== undefined)
  .join('-');
const resultsFile = fileURLToPath(new URL(`./results/${resultsName}.json`, import.meta.url));
const seed = values.seed === undefined ? runOptions.seed : Number(values.seed);
const selected =
  values.only === undefined
    ? benchmarks
    : [...benchmarks, ...extraBenchmarks].filter((b) => b.name === values.only);
if (selected.length === 0 || !Number.isInteger(seed)) {
  process.stderr.write(
    !Number.isInteger(seed)
      ? `--seed must be an integer, got ${values.seed}\n`
      : `No benchmark named "${values.only}"; there are: ${[...benchmarks, ...extraBenchmarks].map((b) => b.name).join(', ')}\n`,
  );
  process.exit(2);
}

const watchdog = setTimeout(
  () => {
    process.stderr.write(
      `Benchmarks still running after ${runOptions.watchdogMs[quick ? 'quick' : 'full'] / 1000} s; stopped.\n`,
    );
    process.exit(1);
  },
  runOptions.watchdogMs[quick ? 'quick' : 'full'],
);
watchdog.unref();

const log = (line: string) => process.stderr.write(`${line}\n`);
const startedAt = new Date();
const started = performance.now();
const redis = await startRedis({ forcePrivate: true });
const tempDir = await mkdtemp(join(tmpdir(), 'runner-bench-'));
const machine = await describeMachine();
console.log(`Machine: ${formatMachine(machine)}`);
console.log(`Run: ${quick ? 'quick' : 'full'}, seed ${seed}, ${startedAt.toISOString()}\n`);

interface BenchmarkRecord {
  name: string;
  title: string;
  durationMs: number;
  result?: BenchmarkResult;
  error?: string;
}
const records: BenchmarkRecord[] = [];
const context: BenchContext = { quick, seed, redisUrl: redis.url, tempDir, repoRoot, log };
try {
  for (const benchmark of selected) {
    log(`\n${benchmark.title}`);
    const benchStarted = performance.now();
    try {
      const result = await benchmark.run(context);
      records.push({
        name: benchmark.name,
        title: benchmark.title,
        durationMs: performance.now() - benchStarted,
        result,
      });
    } catch (error) {
      log(
        `${benchmark.name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      records.push({
        name: benchmark.name,
        title: benchmark.title,
        durationMs: performance.now() - benchStarted,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
} finally {
  await redis.stop();
  await rm(tempDir, { recursive: true, force: true });
}

const durationMs = performance.now() - started;
await mkdir(join(resultsFile, '..'), { recursive: true });
await writeFile(
  resultsFile,
  `${JSON.stringify({ machine, date: startedAt.toISOString(), quick, seed, durationMs: Math.round(durationMs), benchmarks: records }, null, 2)}\n`,
);

for (const record of records) {
  console.log(`## ${record.title} (${(record.durationMs / 1000).toFixed(0)} s)\n`);
  console.log(`Machine: ${formatMachine(machine)}. ${quick ? 'Quick run' : 'Full run'}, seed ${seed}.\n`);
  const { result } = record;
  if (result === undefined) {
    console.log(`Could not run: ${record.error ?? 'unknown error'}\n`);
    continue;
  }
  console.log(
    markdownTable(
      ['Measure', 'A (median, min–max)', 'B (median, min–max)', 'Result (median, min–max)', 'Target', ''],
      result.rows.map(tableRow),
    ),
  );
  console.log('');
  for (const note of result.notes) console.log(`- ${note}`);
  console.log('');
}
console.log(
  `Machine: ${formatMachine(machine)}. Run: ${quick ? 'quick' : 'full'}, seed ${seed}, ${(durationMs / 1000).toFixed(0)} s.`,
);
console.log(`Every repetition's raw figures: ${resultsFile.replace(repoRoot, '')}`);
process.exit(records.some((record) => record.error !== undefined) ? 1 : 0);

function tableRow(r: ResultRow): string[] {
  const arm = (i: 0 | 1) => (r.arms ? `${r.arms[i].name} ${formatSummary(r.arms[i], r.arms[i].unit)}` : '');
  const { outcome } = r;
  const figure =
    outcome.of === 'sum'
      ? `${formatNumber(outcome.value)}${outcome.unit ? ` ${outcome.unit}` : ''} in ${outcome.raw.length} phases`
      : outcome.unit === ''
        ? formatRatio({ ...outcome, median: outcome.value })
        : formatSummary({ ...outcome, median: outcome.value }, outcome.unit);
  return [
    r.measure,
    arm(0),
    arm(1),
    `${outcome.label}: ${figure}`,
    r.target ? `${r.target.op === '>=' ? '≥' : '≤'} ${r.target.value}` : '',
    r.met === undefined ? '' : r.met ? '✓' : '✗',
  ];
}
