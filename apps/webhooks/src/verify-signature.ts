import { createHmac, timingSafeEqual } from 'node:crypto';

const signaturePattern = /^sha256=([0-9a-f]{64})$/i;

/** `sha256=<hex>`: the `X-Hub-Signature-256` GitHub sends for `body` under the webhook secret. */
export function signBody(body: string | Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Whether `header` is GitHub's signature of the raw `body` under `secret`. A missing header, one that is
 * not `sha256=` and 64 hex digits, or a wrong one are all false. The comparison takes the same time
 * wherever the first differing byte is (`timingSafeEqual` on two 32-byte digests), so the signature
 * cannot be guessed byte by byte.
 */
export function verifySignature(body: Uint8Array, header: string | undefined, secret: string): boolean {
  const hex = header === undefined ? undefined : signaturePattern.exec(header.trim())?.[1];
  if (hex === undefined) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  const given = Buffer.from(hex, 'hex');
  // Always 32 bytes after the pattern, but timingSafeEqual throws on a length mismatch.
  return given.length === expected.length && timingSafeEqual(given, expected);
}
