import { createPrivateKey } from 'node:crypto';
import { z } from 'zod';
import type { ValueRule } from './value-rule.ts';

/**
 * PEM text with real line breaks. People paste keys into one-line variables (Docker env files, CI
 * secret forms) with a two-character `\n` for each break, so those become newlines here.
 */
export function normalizePrivateKey(text: string): string {
  return `${text.replace(/\\n/g, '\n').trim()}\n`;
}

/**
 * What is wrong with `pem` as a private key, or undefined when Node can load it. The answer never quotes
 * the text: it is a secret, and it completes "got a value of N characters that …".
 */
export function privateKeyDefect(pem: string): string | undefined {
  if (!pem.includes('-----BEGIN') || !pem.includes('PRIVATE KEY-----')) return 'is not a PEM private key';
  // Markers alone pass a key cut short or flattened onto one line with spaces; signing the App's JWT
  // would then fail on the first job instead of at start-up.
  try {
    createPrivateKey(pem);
  } catch {
    return 'has PEM markers but is not a readable private key (cut short, or line breaks lost?)';
  }
  return undefined;
}

const privateKeySchema = z.string().transform((text, context) => {
  const pem = normalizePrivateKey(text);
  const defect = privateKeyDefect(pem);
  if (defect === undefined) return pem;
  context.issues.push({ code: 'custom', message: defect, input: text });
  return z.NEVER;
});

export const privateKeyRule: ValueRule<string> = {
  schema: privateKeySchema,
  expects:
    'the PEM private key generated under "Private keys" on the GitHub App\'s settings page (one line with \\n escapes is fine; or set GITHUB_APP_PRIVATE_KEY_PATH to the .pem file)',
  secret: true,
};

/** The same check for a key read from GITHUB_APP_PRIVATE_KEY_PATH, whose contents are just as secret. */
export const privateKeyFileRule: ValueRule<string> = {
  schema: privateKeySchema,
  expects: 'the path of the .pem file downloaded under "Private keys" on the GitHub App\'s settings page',
  secret: true,
};
