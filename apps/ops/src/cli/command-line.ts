import { parseArgs } from 'node:util';
import { type InspectableState, inspectableStates } from '@runner/queue';
import { UsageError } from './cli-errors.ts';
import { DurationError, parseDuration } from './parse-duration.ts';

/** Every flag any command takes; which command takes which is in {@link commandSpecs}. */
const flagDefinitions = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  state: { type: 'string' },
  limit: { type: 'string' },
  failed: { type: 'boolean' },
  'older-than': { type: 'string' },
} as const;
type Flag = keyof typeof flagDefinitions;

export const commandNames = [
  'status',
  'jobs',
  'job',
  'retry',
  'remove',
  'pause',
  'resume',
  'clean',
  'watch',
  'help',
] as const;
export type CommandName = (typeof commandNames)[number];

interface CommandSpec {
  /** Flags besides `--json` and `--help`, which every command takes. */
  flags: readonly Flag[];
  /** Positional arguments, in order; those in brackets are optional. */
  args: readonly string[];
}

export const commandSpecs: Record<CommandName, CommandSpec> = {
  status: { flags: [], args: [] },
  jobs: { flags: ['state', 'limit'], args: [] },
  job: { flags: [], args: ['<id>'] },
  retry: { flags: ['failed', 'limit'], args: ['[id]'] },
  remove: { flags: [], args: ['<id>'] },
  pause: { flags: [], args: [] },
  resume: { flags: [], args: [] },
  clean: { flags: ['state', 'older-than', 'limit'], args: [] },
  watch: { flags: [], args: [] },
  help: { flags: [], args: ['[command]'] },
};

export const cleanableStates = ['completed', 'failed'] as const;
export type CleanableState = (typeof cleanableStates)[number];

/** Defaults of the flags that have one. */
export const defaultCommandLineOptions = {
  /** Jobs listed by `jobs` when `--limit` is absent. */
  jobsLimit: 20,
  /** Failed jobs put back by `retry --failed` when `--limit` is absent. */
  retryFailedLimit: 100,
  /** Jobs removed by one `clean` when `--limit` is absent. */
  cleanLimit: 10_000,
  /** The largest `--limit` accepted: more would load that many jobs into this process at once. */
  maxLimit: 100_000,
} as const;

/** A command line, checked: every value is parsed and in range before anything talks to Redis. */
export type Command = { json: boolean } & (
  | { name: 'help'; topic: CommandName | undefined }
  | { name: 'status' | 'pause' | 'resume' | 'watch' }
  | { name: 'jobs'; state: InspectableState | undefined; limit: number }
  | { name: 'job' | 'remove'; id: string }
  | { name: 'retry'; id: string }
  | { name: 'retry-failed'; limit: number }
  | { name: 'clean'; state: CleanableState; olderThan: string; olderThanMs: number; limit: number }
);

/**
 * Parses `runner-ops` arguments (without `node` and the script). Flags may come before or after the
 * command. `--help` anywhere, or no command at all, asks for help.
 * @throws UsageError naming the first mistake: unknown command or flag, a flag the command does not
 *   take, a missing or malformed value, a missing or extra argument.
 */
export function parseCommandLine(argv: readonly string[]): Command {
  // Not strict: node's own messages are long and name no command, so the tokens are checked here.
  const { tokens } = parseArgs({
    args: [...argv],
    options: flagDefinitions,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const positionals: string[] = [];
  const flags = new Map<Flag, string | true>();
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value);
    if (token.kind !== 'option') continue;
    if (!(token.name in flagDefinitions)) throw new UsageError(`unknown option ${token.rawName}`);
    const flag = token.name as Flag;
    if (flagDefinitions[flag].type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`option ${token.rawName} takes no value`);
      flags.set(flag, true);
      continue;
    }
    // `--state --json`: the next word is another flag, not the value that was forgotten.
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('-'))) {
      throw new UsageError(`option ${token.rawName} needs a value`);
    }
    flags.set(flag, token.value);
  }

  const [word, ...args] = positionals;
  const json = flags.has('json');
  if (word === undefined) return { json, name: 'help', topic: undefined };
  if (!isCommandName(word)) {
    throw new UsageError(`unknown command ${JSON.stringify(word)}; commands: ${commandNames.join(', ')}`);
  }
  if (flags.has('help')) return { json, name: 'help', topic: word };
  const spec = commandSpecs[word];
  for (const flag of flags.keys()) {
    if (flag !== 'json' && flag !== 'help' && !spec.flags.includes(flag)) {
      throw new UsageError(`${word} does not take --${flag}`);
    }
  }
  if (args.length > spec.args.length) {
    throw new UsageError(`${word}: unexpected argument ${JSON.stringify(args[spec.args.length])}`);
  }
  const text = (flag: Flag): string | undefined => {
    const value = flags.get(flag);
    return typeof value === 'string' ? value : undefined;
  };
  const limit = (fallback: number) => parseLimit(text('limit'), fallback);

  switch (word) {
    case 'help': {
      const [topic] = args;
      if (topic !== undefined && !isCommandName(topic)) {
        throw new UsageError(
          `unknown command ${JSON.stringify(topic)}; commands: ${commandNames.join(', ')}`,
        );
      }
      return { json, name: 'help', topic };
    }
    case 'status':
    case 'pause':
    case 'resume':
    case 'watch':
      return { json, name: word };
    case 'jobs':
      return {
        json,
        name: 'jobs',
        state: parseState(text('state'), inspectableStates),
        limit: limit(defaultCommandLineOptions.jobsLimit),
      };
    case 'job':
    case 'remove':
      return { json, name: word, id: requireId(word, args[0]) };
    case 'retry': {
      const [id] = args;
      if (flags.has('failed')) {
        if (id !== undefined) throw new UsageError('retry: give a job id or --failed, not both');
        return { json, name: 'retry-failed', limit: limit(defaultCommandLineOptions.retryFailedLimit) };
      }
      if (flags.has('limit')) throw new UsageError('retry: --limit goes with --failed');
      if (id === undefined) throw new UsageError('retry: give a job id, or --failed for all failed jobs');
      return { json, name: 'retry', id: requireId(word, id) };
    }
    case 'clean': {
      const state = parseState(text('state'), cleanableStates);
      const olderThan = text('older-than');
      if (state === undefined) throw new UsageError('clean: --state completed or --state failed is required');
      if (olderThan === undefined)
        throw new UsageError('clean: --older-than is required, e.g. --older-than 1h');
      return {
        json,
        name: 'clean',
        state,
        olderThan,
        olderThanMs: parseOlderThan(olderThan),
        limit: limit(defaultCommandLineOptions.cleanLimit),
      };
    }
  }
}

function isCommandName(word: string): word is CommandName {
  return (commandNames as readonly string[]).includes(word);
}

function requireId(command: string, id: string | undefined): string {
  if (id === undefined || id.trim() === '') throw new UsageError(`${command}: give a job id`);
  return id;
}

function parseState<S extends string>(value: string | undefined, allowed: readonly S[]): S | undefined {
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as S;
  throw new UsageError(`invalid --state ${JSON.stringify(value)}; expected one of ${allowed.join(', ')}`);
}

function parseLimit(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const { maxLimit } = defaultCommandLineOptions;
  const limit = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(limit >= 1 && limit <= maxLimit)) {
    throw new UsageError(
      `invalid --limit ${JSON.stringify(value)}; expected a whole number from 1 to ${maxLimit}`,
    );
  }
  return limit;
}

function parseOlderThan(value: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    if (error instanceof DurationError) throw new UsageError(`--older-than: ${error.message}`);
    throw error;
  }
}
