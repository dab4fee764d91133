/**
 * Thrown by `loadConfig` when the environment is incomplete or malformed. Lists every problem at once,
 * so one start-up attempt shows everything to fix. Problems never contain a secret's value.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly code = 'invalid_config';
  /** One line per problem: the variable, what it expects and how to fix it, and what it got. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    const count = `${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}`;
    super(`Invalid configuration (${count}):\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.problems = Object.freeze([...problems]);
  }
}
