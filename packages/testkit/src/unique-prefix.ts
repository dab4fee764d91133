import { randomBytes } from 'node:crypto';

/**
 * A fresh Redis key prefix such as `test:enqueue:3f9a1c0b7e2d`, so tests sharing one server
 * (for example an external `REDIS_URL`) never see each other's keys.
 */
export function uniquePrefix(label?: string): string {
  const random = randomBytes(6).toString('hex');
  return label === undefined || label === '' ? `test:${random}` : `test:${label}:${random}`;
}
