import { readFileSync } from 'node:fs';
import { policyEnvVariables } from '@runner/retry';
import { describe, expect, it } from 'vitest';
import { envVariables } from './env-variables.ts';

const envExample = readFileSync(new URL('../../../.env.example', import.meta.url), 'utf8');

/** `NAME=value` and `# NAME=value` lines: the variables .env.example sets or shows with their default. */
const exampleLines = new Map(
  [...envExample.matchAll(/^(?:# )?([A-Z][A-Z0-9_]*)=(.*)$/gm)].map(([, name = '', value = '']) => [
    name,
    value,
  ]),
);

describe('envVariables', () => {
  it('names each variable once', () => {
    const names = envVariables.map(({ name }) => name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('includes every RETRY_* variable, with its policy default', () => {
    expect(envVariables.map(({ name }) => name)).toEqual(expect.arrayContaining(policyEnvVariables()));
    expect(envVariables.find(({ name }) => name === 'RETRY_GITHUB_TOOLS_MAX_RETRIES')).toMatchObject({
      default: '3',
      secret: false,
    });
    expect(envVariables.find(({ name }) => name === 'RETRY_LLM_TIMEOUT_MS')?.default).toBe('30000');
    expect(envVariables.find(({ name }) => name === 'RETRY_JOB_TIMEOUT_MS')).not.toHaveProperty('default');
  });

  it('marks the secrets', () => {
    expect(envVariables.filter(({ secret }) => secret).map(({ name }) => name)).toEqual([
      'GITHUB_APP_PRIVATE_KEY',
      'GITHUB_WEBHOOK_SECRET',
      'LLM_API_KEY',
      'OLLAMA_API_KEY',
      'OPS_TOKEN',
    ]);
  });
});

describe('.env.example', () => {
  it.each(envVariables.map((variable) => [variable.name, variable] as const))(
    'documents %s',
    (name, variable) => {
      expect(exampleLines.has(name), `add a "${name}=" line to .env.example`).toBe(true);
      const value = exampleLines.get(name);
      // Secrets stay empty; a shown default must be the real one.
      if (variable.secret) expect(value).toBe('');
      if (variable.default !== undefined && value !== '') expect(value).toBe(variable.default);
    },
  );

  it('documents no variable that loadConfig does not read', () => {
    const known = new Set(envVariables.map(({ name }) => name));
    expect([...exampleLines.keys()].filter((name) => !known.has(name))).toEqual([]);
  });
});

describe('docs/operations.md', () => {
  const operations = readFileSync(new URL('../../../docs/operations.md', import.meta.url), 'utf8');

  it.each(envVariables.map((variable) => [variable.name, variable] as const))(
    'has %s in its configuration reference, with its default',
    (name, variable) => {
      const row = operations.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
      expect(row, `add a row for ${name} to the configuration reference`).toBeDefined();
      if (variable.default !== undefined) expect(row).toContain(`| \`${variable.default}\` |`);
    },
  );
});
