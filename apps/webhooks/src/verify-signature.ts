import { createHmac, timingSafeEqual } from 'node:crypto';

const signaturePattern = /^sha256=([0-9a-f]{64})$/i;

/** `sha256=<hex>`: the `X-Hub-Signature-256` GitHub sends for `body` under the webhook secret. */
export function signBody(body: string | Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * The HMAC-SHA256 of the raw `body` under `secret` when `header` is GitHub's signature of it, else
 * undefined (a missing header, one that is not `sha256=` and 64 hex digits, or a wrong one). The
 * comparison takes the same time wherever the first differing byte is (`timingSafeEqual` on two 32-byte
 * digests), so the signature cannot be guessed byte by byte. The digest identifies the body as well as a
 * sha256 of it would, without hashing 25 KB a second time.
 */
export function verifiedDigest(
  body: Uint8Array,
  header: string | undefined,
  secret: string,
): Buffer | undefined {
  const hex = header === undefined ? undefined : signaturePattern.exec(header.trim())?.[1];
  if (hex === undefined) return undefined;
  const expected = createHmac('sha256', secret).update(body).digest();
  const given = Buffer.from(hex, 'hex');
  // Always 32 bytes after the pattern, but timingSafeEqual throws on a length mismatch.
  return given.length === expected.length && timingSafeEqual(given, expected) ? expected : undefined;
}

/** Whether `header` is GitHub's signature of the raw `body` under `secret`; see {@link verifiedDigest}. */
export function verifySignature(body: Uint8Array, header: string | undefined, secret: string): boolean {
  return verifiedDigest(body, header, secret) !== undefined;
}
