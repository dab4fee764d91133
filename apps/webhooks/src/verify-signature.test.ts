import { describe, expect, it } from 'vitest';
import { signBody, verifiedDigest, verifySignature } from './verify-signature.ts';

const secret = "It's a Secret to Everybody";
const body = Buffer.from('Hello, World!');

describe('verifySignature', () => {
  it("accepts GitHub's documented example", () => {
    // From GitHub's "Validating webhook deliveries": this secret and body give this signature.
    const header = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
    expect(signBody(body, secret)).toBe(header);
    expect(verifySignature(body, header, secret)).toBe(true);
  });

  it('accepts upper-case hex', () => {
    expect(
      verifySignature(body, signBody(body, secret).toUpperCase().replace('SHA256=', 'sha256='), secret),
    ).toBe(true);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['without the sha256= prefix', signBody(body, secret).slice('sha256='.length)],
    ['too short', signBody(body, secret).slice(0, -1)],
    ['too long', `${signBody(body, secret)}00`],
    ['not hex', `sha256=${'z'.repeat(64)}`],
    ['for another body', signBody('Hello, World?', secret)],
    ['under another secret', signBody(body, 'another secret')],
  ])('refuses a signature that is %s', (_, header) => {
    expect(verifySignature(body, header, secret)).toBe(false);
  });
});

describe('verifiedDigest', () => {
  it('returns the HMAC of a correctly signed body, and nothing for a wrong signature', () => {
    const header = signBody(body, secret);
    expect(verifiedDigest(body, header, secret)?.toString('hex')).toBe(header.slice('sha256='.length));
    expect(verifiedDigest(body, signBody('Hello, World?', secret), secret)).toBeUndefined();
  });
});
