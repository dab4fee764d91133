import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withDotEnv } from './dot-env.ts';

describe('withDotEnv', () => {
  it('puts the file’s variables under the environment’s', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'dotenv-')), '.env');
    writeFileSync(
      path,
      'LLM_MODEL=from-file\nQUEUE_PREFIX=file\n# a comment\nGITHUB_APP_SLUG="quoted-slug"\n',
    );
    const env = withDotEnv({ QUEUE_PREFIX: 'from-env' }, path);
    expect(env).toMatchObject({
      LLM_MODEL: 'from-file',
      QUEUE_PREFIX: 'from-env',
      GITHUB_APP_SLUG: 'quoted-slug',
    });
  });

  it('returns the environment as it is when there is no file', () => {
    const env = { A: '1' };
    expect(withDotEnv(env, join(tmpdir(), 'no-such-dir-for-dotenv', '.env'))).toBe(env);
  });
});
