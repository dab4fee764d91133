import type { ConfigNeed, RunnerConfig } from './runner-config.ts';

/** Something a need cannot do without: one variable, or a choice of variables that supply the same value. */
export interface Requirement {
  readonly names: readonly string[];
  /** Where the config holds the value once loaded. */
  readonly field: keyof RunnerConfig['github'];
  /** Where to find the value, for people setting up an App for the first time. */
  readonly hint: string;
}

export const requirements: Readonly<Record<ConfigNeed, readonly Requirement[]>> = {
  githubApp: [
    { names: ['GITHUB_APP_ID'], field: 'appId', hint: 'the "App ID" on the GitHub App\'s settings page' },
    {
      names: ['GITHUB_APP_PRIVATE_KEY', 'GITHUB_APP_PRIVATE_KEY_PATH'],
      field: 'privateKey',
      hint: 'generate a key under "Private keys" on the GitHub App\'s settings page',
    },
  ],
  webhooks: [
    {
      names: ['GITHUB_WEBHOOK_SECRET'],
      field: 'webhookSecret',
      hint: 'the secret entered under "Webhook" on the GitHub App\'s settings page',
    },
    {
      names: ['GITHUB_APP_SLUG'],
      field: 'appSlug',
      hint: 'the last part of https://github.com/apps/<slug>',
    },
  ],
  // A local Ollama needs no key and every LLM variable has a default; set ones are checked regardless.
  llm: [],
};

/** The problem for a requirement nothing in the environment meets. */
export function missingProblem(need: ConfigNeed, requirement: Requirement): string {
  const { names, hint } = requirement;
  const which = names.length === 1 ? 'it' : 'one of them';
  return `${names.join(' or ')} is required for ${need}; set ${which} in the environment or in .env (${hint})`;
}
