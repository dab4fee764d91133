import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AgentJobData, createAgentQueue } from '@runner/queue';
import { Redis } from 'ioredis';

export interface BareIntakeOptions {
  redisUrl: string;
  prefix: string;
  secret: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
}

export interface RunningBareIntake {
  url: string;
  close(): Promise<void>;
}

/**
 * The intake benchmark's baseline: the least a webhook receiver can do. `node:http`, read the body,
 * check the HMAC (`timingSafeEqual`), `JSON.parse`, `queue.add`, 202. No dedupe, no checks of the
 * event's shape, no logging, no limits: what the real intake adds is what the benchmark measures.
 */
export async function startBareIntake(options: BareIntakeOptions): Promise<RunningBareIntake> {
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const queue = createAgentQueue({ connection: redis, prefix: options.prefix });
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/healthz') return reply(res, 200, { ok: true });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const given = Buffer.from(
      String(req.headers['x-hub-signature-256'] ?? '').replace(/^sha256=/, ''),
      'hex',
    );
    const expected = createHmac('sha256', options.secret).update(body).digest();
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return reply(res, 401, { error: 'bad signature' });
    const payload = JSON.parse(body.toString('utf8')) as {
      issue: { number: number };
      repository: { name: string; owner: { login: string } };
      sender: { login: string; type: string };
      installation: { id: number };
    };
    const deliveryId = String(req.headers['x-github-delivery']);
    const data: AgentJobData = {
      deliveryId,
      event: 'issues.opened',
      installationId: payload.installation.id,
      repository: { owner: payload.repository.owner.login, name: payload.repository.name },
      issueNumber: payload.issue.number,
      isPullRequest: false,
      sender: { login: payload.sender.login, type: payload.sender.type },
      receivedAt: new Date().toISOString(),
    };
    await queue.add(data.event, data, { jobId: deliveryId });
    reply(res, 202, { jobId: deliveryId });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => reply(res, 500, { error: 'internal error' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await queue.close();
      redis.disconnect();
    },
  };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
