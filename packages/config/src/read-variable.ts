import type { ValueRule } from './value-rule.ts';

/** An environment record such as `process.env`. */
export type Env = Readonly<Record<string, string | undefined>>;

export type Parsed<T> = { ok: true; value: T } | { ok: false };

/** The variable's text, or undefined when unset or blank: `FOO=` in an env file means "not set". */
export function presentValue(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw;
}

/** "1 character", "12 characters": how problems describe a secret without showing it. */
export function characters(count: number): string {
  return `${count} ${count === 1 ? 'character' : 'characters'}`;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; defect: string; custom: boolean };

/** Runs the rule's schema; on failure, `defect` completes "a value … that <defect>". */
export function checkValue<T>(rule: ValueRule<T>, raw: string): Checked<T> {
  const result = rule.schema.safeParse(raw);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0];
  // Only custom issues carry messages we wrote; zod's own wording is not vetted for secrets.
  const custom = issue?.code === 'custom';
  return { ok: false, defect: custom ? issue.message : 'is not valid', custom };
}

/** How a non-secret value is quoted in a problem. */
function quote(rule: ValueRule<unknown>, raw: string): string {
  return JSON.stringify(rule.show ? rule.show(raw) : raw);
}

/** Parses `raw`, adding a problem to `problems` when it does not fit the rule. */
export function parseValue<T>(name: string, raw: string, rule: ValueRule<T>, problems: string[]): Parsed<T> {
  const checked = checkValue(rule, raw);
  if (checked.ok) return checked;
  // A non-secret rule's own message (a list with one bad entry) says which part is wrong.
  const got = rule.secret
    ? `a value of ${characters(raw.length)} that ${checked.defect}`
    : `${quote(rule, raw)}${checked.custom ? `, which ${checked.defect}` : ''}`;
  problems.push(`${name}: expected ${rule.expects}; got ${got}`);
  return { ok: false };
}

/** The variable's parsed value, or undefined when it is unset or invalid (then a problem is recorded). */
export function readVariable<T>(
  env: Env,
  name: string,
  rule: ValueRule<T>,
  problems: string[],
): T | undefined {
  const raw = presentValue(env, name);
  if (raw === undefined) return undefined;
  const parsed = parseValue(name, raw, rule, problems);
  return parsed.ok ? parsed.value : undefined;
}

/**
 * A variable that also goes by an older name. Either may be set; both may be set only to the same value
 * (compared after parsing), since silently preferring one would hide a stale setting.
 * @param fromAlias adapts a value given under the alias to what `name` means.
 */
export function readAliased<T>(
  env: Env,
  name: string,
  alias: string,
  rule: ValueRule<T>,
  problems: string[],
  fromAlias: (value: T) => T = (value) => value,
): T | undefined {
  const aliasRaw = presentValue(env, alias);
  if (aliasRaw === undefined) return readVariable(env, name, rule, problems);
  const raw = presentValue(env, name);
  const parsed = raw === undefined ? undefined : parseValue(name, raw, rule, problems);
  const aliasParsed = parseValue(alias, aliasRaw, rule, problems);
  const aliasValue = aliasParsed.ok ? fromAlias(aliasParsed.value) : undefined;
  if (raw === undefined || parsed === undefined) return aliasValue;
  if (parsed.ok && aliasValue !== undefined && parsed.value === aliasValue) return parsed.value;

  const got = rule.secret
    ? 'both are set, to different values'
    : `got ${quote(rule, raw)} and ${quote(rule, aliasRaw)}`;
  problems.push(`${alias}: set only one of ${name} and ${alias} (${alias} is the older name); ${got}`);
  return undefined;
}
