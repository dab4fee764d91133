import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import type { Env } from './read-variable.ts';

/**
 * The environment with the variables of a `.env` file under it, when the file exists: a variable set in
 * the real environment wins, as with docker compose and dotenv. Apps pass the result to `loadConfig`.
 */
export function withDotEnv(env: Env = process.env, path = '.env'): Env {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return env;
    throw error;
  }
  return { ...parseEnv(text), ...definedOnly(env) };
}

function definedOnly(env: Env): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}
