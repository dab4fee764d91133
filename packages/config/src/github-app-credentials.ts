import { ConfigError } from './config-error.ts';
import { missingProblem, requirements } from './requirements.ts';
import type { RunnerConfig } from './runner-config.ts';

/**
 * The App ID and private key, typed as present, for code that runs after `loadConfig` was called with
 * `needs: ['githubApp']`.
 * @throws ConfigError naming what is missing, when the app forgot to ask for `githubApp`.
 */
export function githubAppCredentials(config: RunnerConfig): { appId: string; privateKey: string } {
  const { appId, privateKey } = config.github;
  if (appId !== undefined && privateKey !== undefined) return { appId, privateKey };
  throw new ConfigError(
    requirements.githubApp
      .filter((requirement) => config.github[requirement.field] === undefined)
      .map((requirement) => missingProblem('githubApp', requirement)),
  );
}
