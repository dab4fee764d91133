import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { OpsTokenRequiredError } from './ops-token-required-error.ts';

/** What a 401 answers, so that a browser asks for a user name and password (the password is the token). */
export const basicChallenge = 'Basic realm="runner-ops"';

/**
 * Whether an `Authorization` header carries `token`: `Bearer <token>`, or HTTP Basic auth with any user
 * name and the token as password (what a browser sends after {@link basicChallenge}). Both sides are
 * hashed to SHA-256 before `timingSafeEqual`, so the comparison takes the same time whatever the length
 * or content of what was sent.
 */
export function isAuthorized(authorization: string | undefined, token: string): boolean {
  const presented = presentedToken(authorization);
  const matches = timingSafeEqual(sha256(presented ?? ''), sha256(token));
  return presented !== undefined && matches;
}

/** The token of a Bearer header, or the password of a Basic one; undefined for anything else. */
export function presentedToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const header = authorization.trim();
  const space = header.indexOf(' ');
  if (space === -1) return undefined;
  const scheme = header.slice(0, space).toLowerCase();
  const credentials = header.slice(space + 1).trim();
  if (credentials === '') return undefined;
  if (scheme === 'bearer') return credentials;
  if (scheme !== 'basic') return undefined;
  const decoded = Buffer.from(credentials, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? undefined : decoded.slice(colon + 1);
}

/**
 * Refuses to serve the queue without a token anywhere but on loopback: the dashboard can retry, remove and
 * add jobs, and job data holds issue text.
 * @throws OpsTokenRequiredError when `token` is absent and `host` is not a loopback address.
 */
export function assertOpsAccess(host: string, token: string | undefined): void {
  if (token === undefined && !isLoopbackHost(host)) throw new OpsTokenRequiredError(host);
}

/** `localhost`, 127.0.0.0/8, `::1` (in any spelling) and `::ffff:127.x.x.x`. */
export function isLoopbackHost(host: string): boolean {
  const name = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (name === 'localhost') return true;
  const family = isIP(name);
  if (family === 4) return name.split('.')[0] === '127';
  if (family !== 6) return false;
  // The URL parser writes an IPv6 address in its shortest form: ::1, ::ffff:7f00:1.
  let canonical: string;
  try {
    canonical = new URL(`http://[${name}]/`).hostname;
  } catch {
    return false; // a zone index (fe80::1%eth0) is no loopback address anyway
  }
  return canonical === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical);
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
