import { describe, expect, it } from 'vitest';
import { UsageError } from './cli-errors.ts';
import { type CommandName, commandNames, commandSpecs, parseCommandLine } from './command-line.ts';

// Every malformed command line, generated from the command table, so that a flag or command added later
// is covered without a new test: each must be refused with one line that names the mistake.

const valueFlags = ['state', 'limit', 'older-than'] as const;
const booleanFlags = ['json', 'help', 'failed'] as const;
const allFlags = [...valueFlags, ...booleanFlags];

/** A command line that `parseCommandLine` accepts for each command, to which one mistake is added. */
const validLines: Record<CommandName, string[]> = {
  status: ['status'],
  jobs: ['jobs'],
  job: ['job', '42'],
  retry: ['retry', '42'],
  remove: ['remove', '42'],
  pause: ['pause'],
  resume: ['resume'],
  clean: ['clean', '--state', 'failed', '--older-than', '1h'],
  watch: ['watch'],
  help: ['help'],
};

/** A value each value flag accepts, so that only the mistake under test is wrong. */
const goodValues: Record<(typeof valueFlags)[number], string> = {
  state: 'failed',
  limit: '5',
  'older-than': '1h',
};

function refusal(argv: readonly string[]): string {
  try {
    parseCommandLine(argv);
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error(`accepted: ${JSON.stringify(argv)}`);
}

const oneLine = /^[^\n]+$/;

describe('parseCommandLine refuses every malformed command line', () => {
  it('accepts the valid line of every command, so that each case below has one mistake only', () => {
    for (const name of commandNames) expect(() => parseCommandLine(validLines[name])).not.toThrow();
  });

  const foreignFlags = commandNames.flatMap((name) =>
    allFlags
      .filter((flag) => flag !== 'json' && flag !== 'help' && !commandSpecs[name].flags.includes(flag))
      .map((flag) => [name, flag] as const),
  );
  it.each(foreignFlags)('%s with --%s, which it does not take', (name, flag) => {
    const value = (valueFlags as readonly string[]).includes(flag)
      ? [goodValues[flag as (typeof valueFlags)[number]]]
      : [];
    expect(refusal([...validLines[name], `--${flag}`, ...value])).toBe(`${name} does not take --${flag}`);
  });

  const takesValue = commandNames.flatMap((name) =>
    valueFlags.filter((flag) => commandSpecs[name].flags.includes(flag)).map((flag) => [name, flag] as const),
  );
  it.each(takesValue)('%s --%s with its value missing, at the end or before another flag', (name, flag) => {
    expect(refusal([...validLines[name], `--${flag}`])).toBe(`option --${flag} needs a value`);
    expect(refusal([...validLines[name], `--${flag}`, '--json'])).toBe(`option --${flag} needs a value`);
  });

  it.each(commandNames)('%s with a value given to a flag that takes none', (name) => {
    expect(refusal([...validLines[name], '--json=yes'])).toBe('option --json takes no value');
  });

  it.each(commandNames)('%s with an unknown option, long or short', (name) => {
    expect(refusal([...validLines[name], '--verbose'])).toBe('unknown option --verbose');
    expect(refusal([...validLines[name], '-x'])).toBe('unknown option -x');
  });

  const extraArgument = commandNames.filter((name) => name !== 'help');
  it.each(extraArgument)('%s with one argument too many', (name) => {
    const line = [...validLines[name]];
    // Commands with an optional argument are given it, so the next one is the extra.
    if (commandSpecs[name].args.some((arg) => arg.startsWith('[')) && line.length === 1) line.push('42');
    expect(refusal([...line, 'extra'])).toBe(`${name}: unexpected argument "extra"`);
  });

  const badLimits = ['0', '-1', '1.5', '1e3', '0x10', ' 5', '', 'ten', '100001', '99999999999999999999'];
  const takesLimit = commandNames.filter((name) => commandSpecs[name].flags.includes('limit'));
  it.each(takesLimit.flatMap((name) => badLimits.map((value) => [name, value] as const)))(
    '%s --limit %j',
    (name, value) => {
      const line = name === 'retry' ? ['retry', '--failed'] : validLines[name];
      expect(refusal([...line, `--limit=${value}`])).toBe(
        `invalid --limit ${JSON.stringify(value)}; expected a whole number from 1 to 100000`,
      );
    },
  );

  it.each(['sleeping', 'FAILED', '', 'failed,completed'])('jobs --state %j', (value) => {
    expect(refusal(['jobs', `--state=${value}`])).toMatch(
      new RegExp(`^invalid --state ${JSON.stringify(value)}; expected one of waiting, `),
    );
  });

  it.each(['1 hour', 'h', '-1h', '1.5h', '1y', '', '99999999999999999999d'])(
    'clean --older-than %j',
    (value) => {
      expect(refusal(['clean', '--state', 'failed', `--older-than=${value}`])).toMatch(
        /^--older-than: invalid duration /,
      );
    },
  );

  it.each([
    [['clean', '--older-than', '1h'], 'clean: --state completed or --state failed is required'],
    [['clean', '--state', 'failed'], 'clean: --older-than is required, e.g. --older-than 1h'],
    [['clean', '--state', 'active', '--older-than', '1h'], 'expected one of completed, failed'],
    [['retry', '42', '--failed'], 'retry: give a job id or --failed, not both'],
    [['retry', '42', '--limit', '5'], 'retry: --limit goes with --failed'],
    [['retry'], 'retry: give a job id, or --failed for all failed jobs'],
    [['job', ' '], 'job: give a job id'],
    [['remove'], 'remove: give a job id'],
    [['help', 'frobnicate'], 'unknown command "frobnicate"'],
    [['Status'], 'unknown command "Status"'],
  ])('%j', (argv, message) => {
    expect(refusal(argv)).toContain(message);
  });

  it('says every refusal in one line', () => {
    const lines = [
      ...foreignFlags.map(([name, flag]) => [...validLines[name], `--${flag}=x`]),
      ...commandNames.map((name) => [...validLines[name], '--limit=\nx']),
      ['jobs', '--state=a\nb'],
      ['clean', '--state', 'failed', '--older-than=1\nh'],
      ['job\nx', '1'],
    ];
    for (const argv of lines) expect(refusal(argv)).toMatch(oneLine);
  });
});
