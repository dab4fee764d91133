import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.ts';
import { githubAppCredentials } from './github-app-credentials.ts';
import { loadConfig } from './load-config.ts';

const { privateKey: pem } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});

describe('githubAppCredentials', () => {
  it('returns the App ID and key once both are loaded', () => {
    const config = loadConfig({ GITHUB_APP_ID: '42', GITHUB_APP_PRIVATE_KEY: pem }, { needs: ['githubApp'] });
    expect(githubAppCredentials(config)).toEqual({ appId: '42', privateKey: pem });
  });

  it('throws a ConfigError naming what is missing when githubApp was not among the needs', () => {
    const config = loadConfig({ GITHUB_APP_ID: '42' });
    expect(() => githubAppCredentials(config)).toThrow(ConfigError);
    expect(() => githubAppCredentials(config)).toThrow(
      /^Invalid configuration \(1 problem\):\n {2}- GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_PATH is required for githubApp/,
    );
  });
});
