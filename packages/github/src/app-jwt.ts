import { createPrivateKey } from 'node:crypto';
import githubAppJwt from 'universal-github-app-jwt';
import { GitHubError } from './errors.ts';

/**
 * Turns `GITHUB_APP_PRIVATE_KEY` into the PKCS#8 PEM that `universal-github-app-jwt` signs with, once,
 * at start-up, so a bad key fails there and not on the first job. Accepts GitHub's PKCS#1 download
 * (`BEGIN RSA PRIVATE KEY`) and PKCS#8, with real newlines or `\n` escapes (a one-line `.env` value).
 * @throws GitHubError `invalid_private_key`; its message never quotes the key.
 */
export function normalizePrivateKey(privateKey: string): string {
  const pem = privateKey.replace(/\\n/g, '\n').trim();
  const problem = (what: string, cause?: unknown) =>
    new GitHubError(
      `GITHUB_APP_PRIVATE_KEY ${what}: use the .pem file GitHub generated for the app; in a .env file put it on one line with each newline written as \\n`,
      {
        code: 'invalid_private_key',
        retryable: false,
        reason: 'invalid private key',
        layer: 'request',
        target: 'githubToken',
        cause,
      },
    );
  if (!pem.includes('-----BEGIN')) throw problem('is not a PEM private key (no -----BEGIN line)');
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    // Node's decoder errors ("DECODER routines::unsupported") never include key material.
    throw problem('could not be read as a private key', error);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw problem(`is a ${key.asymmetricKeyType ?? 'non-RSA'} key; GitHub App JWTs need RS256 (an RSA key)`);
  }
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * Signs an App JWT with `universal-github-app-jwt`, the function `@octokit/auth-app` calls for
 * `auth({ type: 'app' })`: RS256, `iss` = the app id exactly as given (a string stays a string).
 * That library puts `iat` 30 s before the `now` it is given and `exp` 600 s after `iat`; GitHub's docs
 * advise `iat` 60 s in the past against clock drift, so we hand it a `now` 30 s early:
 * `iat` = now − 60 s, `exp` = now + 540 s, within GitHub's 10-minute maximum.
 * `nowSeconds` includes any correction for GitHub's clock.
 */
export async function signAppJwt(appId: string, pkcs8Pem: string, nowSeconds: number): Promise<string> {
  const { token } = await githubAppJwt({ id: appId, privateKey: pkcs8Pem, now: nowSeconds - 30 });
  return token;
}

/**
 * GitHub's 401 messages for a JWT whose times are off, as matched by `@octokit/auth-app`'s hook
 * (v8.3.1, dist-src/hook.js `isNotTimeSkewError`).
 */
const timeSkewMessages = [
  /'Expiration time' claim \('exp'\) is too far in the future/,
  /'Expiration time' claim \('exp'\) must be a numeric value representing the future time at which the assertion expires/,
  /'Issued at' claim \('iat'\) must be an Integer representing the time that the assertion was issued/,
];

/**
 * When a token request failed because our clock and GitHub's differ, how many seconds GitHub's clock is
 * ahead of ours (negative when behind), read from the response's `date` header. Otherwise undefined.
 */
export function clockSkewSeconds(error: unknown, nowMs: number): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, message, response } = error as { status?: unknown; message?: unknown; response?: unknown };
  if (status !== 401 || typeof message !== 'string') return undefined;
  if (!timeSkewMessages.some((pattern) => pattern.test(message))) return undefined;
  const headers = (response as { headers?: Record<string, unknown> } | undefined)?.headers;
  const date = typeof headers?.date === 'string' ? Date.parse(headers.date) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.floor((date - nowMs) / 1000);
}
