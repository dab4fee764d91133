import { describe, expect, it } from 'vitest';
import { assertOpsAccess, isAuthorized, isLoopbackHost, presentedToken } from './ops-auth.ts';
import { OpsTokenRequiredError } from './ops-token-required-error.ts';

const token = 'a-long-ops-token-0123456789';
const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

describe('isAuthorized', () => {
  it.each([
    ['Bearer with the token', `Bearer ${token}`],
    ['any case of the scheme', `bearer ${token}`],
    ['Basic with any user and the token as password', basic(`someone:${token}`)],
    ['Basic with no user', basic(`:${token}`)],
  ])('accepts %s', (_, header) => {
    expect(isAuthorized(header, token)).toBe(true);
  });

  it.each([
    ['no header', undefined],
    ['an empty Bearer', 'Bearer '],
    ['a wrong token', 'Bearer not-the-token'],
    ['a prefix of the token', `Bearer ${token.slice(0, -1)}`],
    ['the token and more', `Bearer ${token}0`],
    ['the token as Basic user name', basic(`${token}:`)],
    ['Basic without a colon', basic(token)],
    ['the token with no scheme', token],
    ['another scheme', `Token ${token}`],
  ])('refuses %s', (_, header) => {
    expect(isAuthorized(header, token)).toBe(false);
  });

  it('keeps a colon inside a Basic password', () => {
    expect(presentedToken(basic('user:pa:ss'))).toBe('pa:ss');
  });
});

describe('isLoopbackHost', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    'localhost',
    'LocalHost',
    '::1',
    '[::1]',
    '0:0:0:0:0:0:0:1',
    '::ffff:127.0.0.1',
  ])('%s is loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each([
    '0.0.0.0',
    '::',
    '10.0.0.1',
    '128.0.0.1',
    '192.168.1.2',
    'example.com',
    'localhost.example.com',
    'fe80::1',
  ])('%s is not', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
});

describe('assertOpsAccess', () => {
  it('refuses a non-loopback host without a token, saying what to do', () => {
    expect(() => assertOpsAccess('0.0.0.0', undefined)).toThrow(OpsTokenRequiredError);
    expect(() => assertOpsAccess('0.0.0.0', undefined)).toThrow(
      /OPS_TOKEN is not set, and OPS_HOST=0\.0\.0\.0 is not a loopback address.*Set OPS_TOKEN .* or bind to 127\.0\.0\.1/,
    );
  });

  it('allows any host with a token, and loopback without one', () => {
    expect(() => assertOpsAccess('0.0.0.0', token)).not.toThrow();
    expect(() => assertOpsAccess('127.0.0.1', undefined)).not.toThrow();
    expect(() => assertOpsAccess('::1', undefined)).not.toThrow();
  });
});
