import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { type AgentQueue, createAgentQueue } from '@runner/queue';
import { type Random, seededRandom } from '@runner/retry';
import { type RedisHandle, startRedis, uniquePrefix } from '@runner/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningIntake, startIntake } from './start-intake.ts';
import { captureLogger, deleteKeys, issuesPayload, secret, testConfig } from './test-helpers.ts';
import { signBody } from './verify-signature.ts';

/** How many requests one run throws at the intake, and the seed that makes them; a failure names both. */
const fuzz = { requests: 2_000, seed: 20261126 } as const;

interface FuzzRequest {
  kind: string;
  headers: Record<string, string>;
  body: Buffer;
}

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const randomBytes = (random: Random, length: number) =>
  Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));

/** A valid delivery's body, for the mutations to start from. */
const validBody = () => Buffer.from(JSON.stringify(issuesPayload()));

function deeplyNested(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/**
 * Bodies that are wrong in one way each, every one of them signed correctly: a fuzzer that only sent
 * bad signatures would never get past the first check.
 */
const signedBodies: Record<string, (random: Random) => Buffer> = {
  truncated: (random) => {
    const body = validBody();
    return body.subarray(0, Math.floor(random() * (body.length - 1)));
  },
  'random bytes': (random) => randomBytes(random, 1 + Math.floor(random() * 2_000)),
  'invalid UTF-8': (random) => {
    const body = validBody();
    const at = Math.floor(random() * body.length);
    return Buffer.concat([body.subarray(0, at), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), body.subarray(at)]);
  },
  'deeply nested': (random) => Buffer.from(deeplyNested(1_000 + Math.floor(random() * 50_000))),
  'not an object': (random) => Buffer.from(pick(random, ['null', '[]', '"issues"', '42', 'true', '[{}]'])),
  'fields of the wrong type': (random) => {
    const field = pick(random, ['issue', 'repository', 'installation', 'sender', 'action']);
    const value = pick(random, [null, 7, 'x', [], { id: 'seven' }, true]);
    return Buffer.from(JSON.stringify(issuesPayload({ [field]: value })));
  },
  'fields missing': (random) => {
    const payload = issuesPayload();
    delete payload[pick(random, ['issue', 'repository', 'installation', 'sender'])];
    return Buffer.from(JSON.stringify(payload));
  },
};

/** Headers wrong in one way each, on a valid body, signed unless the defect is the signature. */
const headerDefects: Record<string, (random: Random, headers: Record<string, string>, body: Buffer) => void> =
  {
    'no signature': (_, headers) => {
      delete headers['x-hub-signature-256'];
    },
    'wrong signature': (random, headers) => {
      headers['x-hub-signature-256'] = `sha256=${randomBytes(random, 32).toString('hex')}`;
    },
    'signature of another body': (_, headers) => {
      headers['x-hub-signature-256'] = signBody('{}', secret);
    },
    'malformed signature': (random, headers) => {
      headers['x-hub-signature-256'] = pick(random, [
        'sha256=',
        'sha1=abc',
        'sha256=zz',
        'garbage',
        `sha256=${'a'.repeat(63)}`,
      ]);
    },
    'signed with another secret': (_, headers, body) => {
      headers['x-hub-signature-256'] = signBody(body, `${secret}x`);
    },
    'no event': (_, headers) => {
      delete headers['x-github-event'];
    },
    'unknown event': (random, headers) => {
      headers['x-github-event'] = pick(random, ['push', 'ping', 'nonsense', '']);
    },
    'no delivery id': (_, headers) => {
      delete headers['x-github-delivery'];
    },
    'huge delivery id': (random, headers) => {
      headers['x-github-delivery'] = 'd'.repeat(1_000 + Math.floor(random() * 7_000));
    },
    'huge header': (random, headers) => {
      headers['x-padding'] = 'p'.repeat(8_000 + Math.floor(random() * 12_000));
    },
    'wrong content type': (random, headers) => {
      headers['content-type'] = pick(random, [
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data',
        '',
      ]);
    },
  };

function fuzzRequest(random: Random): FuzzRequest {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-github-event': 'issues',
    'x-github-delivery': randomUUID(),
  };
  if (random() < 0.5) {
    const kind = pick(random, Object.keys(signedBodies));
    const body = signedBodies[kind]?.(random) ?? Buffer.alloc(0);
    headers['x-hub-signature-256'] = signBody(body, secret);
    return { kind: `signed body: ${kind}`, headers, body };
  }
  const kind = pick(random, Object.keys(headerDefects));
  // The defects that leave the signature valid still carry a body the intake must not take.
  const body =
    kind.includes('signature') || kind === 'signed with another secret'
      ? validBody()
      : signedBodies.truncated!(random);
  headers['x-hub-signature-256'] = signBody(body, secret);
  headerDefects[kind]?.(random, headers, body);
  return { kind: `headers: ${kind}`, headers, body };
}

/** Sends raw bytes with node:http, which (unlike fetch) lets a test send any content type or size. */
function send(url: string, fuzzed: FuzzRequest): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/webhooks`, {
      method: 'POST',
      headers: { ...fuzzed.headers, 'content-length': String(fuzzed.body.length) },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(fuzzed.body);
  });
}

describe('the intake under a fuzzer', () => {
  let redis: RedisHandle;
  let prefix: string;
  let intake: RunningIntake;
  let queue: AgentQueue;

  beforeAll(async () => {
    redis = await startRedis();
    prefix = uniquePrefix('fuzz');
    const config = testConfig(redis.url, prefix, { WEBHOOK_MAX_BODY_BYTES: '65536' });
    intake = await startIntake(config, captureLogger().logger, { host: '127.0.0.1' });
    queue = createAgentQueue({ connection: { url: redis.url }, prefix });
  });

  afterAll(async () => {
    await intake?.close();
    await queue?.close();
    if (redis !== undefined) await deleteKeys(redis.url, prefix);
    await redis?.stop();
  });

  it(`answers ${fuzz.requests} malformed requests without a 5xx or a crash, and enqueues none of them`, async () => {
    const random = seededRandom(fuzz.seed);
    const serverErrors: string[] = [];
    const statusesByKind = new Map<string, Set<number>>();
    for (let i = 0; i < fuzz.requests; i++) {
      const fuzzed = fuzzRequest(random);
      const status = await send(intake.url, fuzzed);
      if (status >= 500 || status === 0)
        serverErrors.push(`#${i} (seed ${fuzz.seed}) ${fuzzed.kind}: ${status}`);
      statusesByKind.set(fuzzed.kind, (statusesByKind.get(fuzzed.kind) ?? new Set()).add(status));
    }

    expect(serverErrors).toEqual([]);
    // Every defect was tried, so a kind that stopped being generated cannot pass unnoticed.
    expect(statusesByKind.size).toBe(Object.keys(signedBodies).length + Object.keys(headerDefects).length);
    expect(await queue.count()).toBe(0);
    // Still itself afterwards: a good delivery goes through.
    const good: FuzzRequest = {
      kind: 'valid',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'issues',
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': signBody(validBody(), secret),
      },
      body: validBody(),
    };
    expect(await send(intake.url, good)).toBe(202);
    expect(await queue.count()).toBe(1);
  }, 120_000);
});
