import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { normalizePrivateKey, privateKeyDefect } from './private-key.ts';

const { privateKey: pem, publicKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});

describe('normalizePrivateKey', () => {
  it('turns two-character \\n escapes into line breaks and ends with one newline', () => {
    expect(normalizePrivateKey(`  ${pem.trim().replaceAll('\n', '\\n')}\\n  `)).toBe(pem);
    expect(normalizePrivateKey(pem)).toBe(pem);
  });
});

describe('privateKeyDefect', () => {
  it('accepts PKCS#1 and PKCS#8 keys', () => {
    const { privateKey: pkcs8 } = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    expect(privateKeyDefect(pem)).toBeUndefined();
    expect(privateKeyDefect(pkcs8)).toBeUndefined();
  });

  it('says what is wrong without quoting the text', () => {
    expect(privateKeyDefect('ghp_abc')).toBe('is not a PEM private key');
    expect(privateKeyDefect(publicKey)).toBe('is not a PEM private key');
    expect(privateKeyDefect(pem.replace(/\n/g, ' '))).toMatch(
      /^has PEM markers but is not a readable private key/,
    );
  });
});
