// The fake chat-completions upstream of benchmarks 2 and 3: a token bucket that answers 429 with
// `Retry-After` beyond its rate (2), and an outage schedule that answers 503 or hangs (3). Every request
// is logged with its arrival time and answer, so that the benchmarks count what reached the upstream.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { chatCompletion, errorBody } from '@runner/testkit';

export interface LlmUpstreamOptions {
  /** The token bucket's rate; absent: no rate limit. Per second. */
  ratePerSec?: number;
  /** The bucket's size: requests admitted at once after a quiet spell. */
  burst?: number;
  /** How long an admitted request takes to answer (the model "thinking"). In ms. */
  serviceMs: number;
}

/** A window of epoch ms in which every request gets a 503, or no answer at all. */
export interface Outage {
  mode: '503' | 'hang';
  fromMs: number;
  untilMs: number;
}

/** One request as the upstream saw it: when it arrived (epoch ms) and what it got. */
export interface UpstreamRequest {
  atMs: number;
  answer: 200 | 429 | 503 | 'hang';
}

export interface LlmUpstream {
  url: string;
  /** Every request since the last reset, in arrival order. */
  readonly log: readonly UpstreamRequest[];
  /** A full bucket, no outage, an empty log. */
  reset(outage?: Outage): void;
  close(): Promise<void>;
}

const completionBody = JSON.stringify(chatCompletion('ok'));
const rateLimitedBody = JSON.stringify(
  errorBody('Rate limit reached (fake upstream).', 'requests', 'rate_limit_exceeded'),
);
const unavailableBody = JSON.stringify(errorBody('503 Service Unavailable (fake upstream)', 'server_error'));

export async function startLlmUpstream(options: LlmUpstreamOptions): Promise<LlmUpstream> {
  const rate = options.ratePerSec ?? Number.POSITIVE_INFINITY;
  const burst = options.burst ?? 1;
  let tokens = burst;
  let refilledAtMs = Date.now();
  let outage: Outage | undefined;
  let log: UpstreamRequest[] = [];
  const sockets = new Set<Socket>();

  const takeToken = (nowMs: number): number => {
    tokens = Math.min(burst, tokens + ((nowMs - refilledAtMs) * rate) / 1000);
    refilledAtMs = nowMs;
    if (tokens >= 1) {
      tokens -= 1;
      return 0;
    }
    return ((1 - tokens) * 1000) / rate;
  };
  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body);
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const nowMs = Date.now();
      if (outage && nowMs >= outage.fromMs && nowMs < outage.untilMs) {
        log.push({ atMs: nowMs, answer: outage.mode === '503' ? 503 : 'hang' });
        // A hung request stays hung: the client's timeout is what ends it, as with a half-dead server.
        if (outage.mode === '503') send(res, 503, unavailableBody);
        return;
      }
      const waitMs = rate === Number.POSITIVE_INFINITY ? 0 : takeToken(nowMs);
      if (waitMs > 0) {
        log.push({ atMs: nowMs, answer: 429 });
        // Whole seconds, rounded up, as `Retry-After` is sent by real servers.
        send(res, 429, rateLimitedBody, { 'retry-after': String(Math.ceil(waitMs / 1000)) });
        return;
      }
      log.push({ atMs: nowMs, answer: 200 });
      setTimeout(() => send(res, 200, completionBody), options.serviceMs);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get log() {
      return log;
    },
    reset(next) {
      tokens = burst;
      refilledAtMs = Date.now();
      outage = next;
      log = [];
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
