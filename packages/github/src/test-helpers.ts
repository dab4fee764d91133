/** Shared by this package's tests; not exported from the package. */
import { createVerify, generateKeyPairSync } from 'node:crypto';
import type { Logger, RetryPolicy } from '@runner/retry';
import { type RecordedRequest, reply, type Step } from '@runner/testkit';

export const tokenRoute = 'POST /app/installations/:id/access_tokens';
export const appId = '123456';

let keyPair: { privateKey: string; publicKey: string } | undefined;

/** One RSA key pair per test file, generated as GitHub hands them out (PKCS#1 private key). */
export function testKeys(): { privateKey: string; publicKey: string } {
  keyPair ??= generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return keyPair;
}

/** Milliseconds between retries, so most tests take a few ms. */
export const fastPolicy: RetryPolicy = {
  maxRetries: 5,
  initialDelayMs: 10,
  maxDelayMs: 100,
  multiplier: 2,
  jitter: 'none',
  timeoutMs: 5_000,
};

let tokenCounter = 0;

/** A unique `ghs_` token, so a test can tell two mints apart. */
export function newToken(): string {
  tokenCounter += 1;
  return `ghs_test${String(tokenCounter).padStart(4, '0')}${'x'.repeat(28)}`;
}

/** GitHub's 201 for `POST /app/installations/{id}/access_tokens`; a fresh token each call. */
export function tokenReply(options: { expiresInMs?: number; token?: string } = {}): Step {
  return () =>
    reply.json(201, {
      token: options.token ?? newToken(),
      expires_at: new Date(Date.now() + (options.expiresInMs ?? 3_600_000)).toISOString(),
      permissions: { issues: 'write', metadata: 'read' },
      repository_selection: 'all',
    });
}

/** A GitHub-style error body: top-level `message` and `documentation_url`. */
export function githubError(status: number, message: string, headers?: Record<string, string>): Step {
  return reply.json(status, { message, documentation_url: 'https://docs.github.com/rest' }, headers);
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

export function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: LogLine['level']) =>
    (fields: Record<string, unknown>, message: string): void => {
      lines.push({ level, fields, message });
    };
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

/** The credential after `bearer ` / `token ` in a recorded request's authorization header. */
export function credentialOf(request: RecordedRequest | undefined): string {
  const header = request?.headers.authorization ?? '';
  const match = /^(?:bearer|token) (.+)$/i.exec(header);
  if (match?.[1] === undefined) throw new Error(`no credential in authorization header "${header}"`);
  return match[1];
}

export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** RS256 signature checked against `publicKey`. */
  verified: boolean;
}

export function decodeJwt(jwt: string, publicKey: string): DecodedJwt {
  const [header = '', payload = '', signature = ''] = jwt.split('.');
  const verifier = createVerify('RSA-SHA256');
  verifier.update(`${header}.${payload}`);
  const json = (part: string) =>
    JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
  return {
    header: json(header),
    payload: json(payload),
    verified: verifier.verify(publicKey, Buffer.from(signature, 'base64url')),
  };
}

/** Everything a person or a log pipeline could see of an error: message, enumerable fields, the cause chain. */
export function visibleText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    const e = current as { message?: unknown; stack?: unknown; cause?: unknown };
    parts.push(String(e.message), String(e.stack), JSON.stringify(current));
    current = e.cause;
  }
  return parts.join('\n');
}
