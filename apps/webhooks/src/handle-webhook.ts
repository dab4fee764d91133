import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { AgentJobData, EnqueueResult } from '@runner/queue';
import { deliveryToJob } from './delivery-to-job.ts';
import { withEnqueueDeadline } from './enqueue-deadline.ts';
import { replyJson } from './http-reply.ts';
import {
  BadDeliveryError,
  IntakeError,
  QueueUnavailableError,
  RequestAbortedError,
  SignatureError,
} from './intake-error.ts';
import type { IntakeLogger } from './intake-logger.ts';
import { readBody } from './read-body.ts';
import { verifiedDigest } from './verify-signature.ts';

/**
 * Stores the job unless the delivery was seen, by id or by `bodyDigest` (hex, one per body); throws when
 * it cannot be stored (Redis unreachable).
 */
export type Enqueue = (data: AgentJobData, bodyDigest: string) => Promise<EnqueueResult>;

export interface WebhookHandlerOptions {
  secret: string;
  appSlug: string;
  maxBodyBytes: number;
  bodyTimeoutMs: number;
  enqueue: Enqueue;
  /** Longest `enqueue` may take before the answer is 503, in ms. */
  enqueueTimeoutMs: number;
  logger: IntakeLogger;
  now: () => Date;
  /** True once the server is shutting down: answers then close their connection. */
  closing: () => boolean;
}

/**
 * `POST /webhooks`, in the order that keeps an unauthenticated sender cheap: bound the body (413, 408),
 * verify the signature on the raw bytes (401) before parsing anything, parse (400), check the headers and
 * the event's shape (400), decide (200 ignored), enqueue (202, 200 duplicate, 503).
 */
export async function handleWebhook(
  req: IncomingMessage,
  res: ServerResponse,
  options: WebhookHandlerOptions,
): Promise<void> {
  const started = performance.now();
  const deliveryId = singleHeader(req, 'x-github-delivery');
  const event = singleHeader(req, 'x-github-event');
  // Unverified until the signature is checked, but they are what an operator searches the logs for.
  const log = options.logger.child({ deliveryId, event });
  const elapsed = (): number => Math.round((performance.now() - started) * 10) / 10;
  const reply = (status: number, body: unknown, close = false): void =>
    replyJson(res, status, body, { close: close || options.closing() });

  try {
    const body = await readBody(req, { maxBytes: options.maxBodyBytes, timeoutMs: options.bodyTimeoutMs });
    const signature = singleHeader(req, 'x-hub-signature-256');
    if (signature === undefined) throw new SignatureError('X-Hub-Signature-256 header is missing');
    const hmac = verifiedDigest(body, signature, options.secret);
    if (hmac === undefined) throw new SignatureError('X-Hub-Signature-256 does not match the body');
    const payload = parseJson(body);
    if (event === undefined) throw new BadDeliveryError('X-GitHub-Event header is missing');
    if (deliveryId === undefined) throw new BadDeliveryError('X-GitHub-Delivery header is missing');

    const decision = deliveryToJob(
      { event, deliveryId, payload },
      { appSlug: options.appSlug, receivedAt: options.now() },
    );
    if (decision.kind === 'ignored') {
      log.info(
        { status: 200, reason: decision.reason, durationMs: elapsed() },
        `Ignored: ${decision.reason}`,
      );
      reply(200, { ignored: decision.reason });
      return;
    }

    // The body's identity for the replay dedupe is its HMAC, already computed; hashed once more (32 bytes)
    // so that Redis never holds a valid signature.
    const bodyDigest = createHash('sha256').update(hmac).digest('hex');
    let result: EnqueueResult;
    try {
      result = await withEnqueueDeadline(
        options.enqueue(decision.data, bodyDigest),
        options.enqueueTimeoutMs,
      );
    } catch (error) {
      throw new QueueUnavailableError(error);
    }
    switch (result.outcome) {
      case 'enqueued':
        log.info({ status: 202, jobId: result.jobId, durationMs: elapsed() }, `Enqueued job ${result.jobId}`);
        reply(202, { jobId: result.jobId });
        return;
      case 'duplicate':
        log.info(
          { status: 200, jobId: result.jobId, durationMs: elapsed() },
          `Duplicate delivery: job ${result.jobId} already has it`,
        );
        reply(200, { duplicate: true, jobId: result.jobId });
        return;
    }
  } catch (error) {
    if (error instanceof RequestAbortedError) {
      log.debug({ reason: error.code }, 'Client went away before sending the whole body');
      return;
    }
    if (!(error instanceof IntakeError)) {
      log.error({ err: error, status: 500 }, 'Webhook handler failed unexpectedly');
      reply(500, { error: 'internal error' }, true);
      return;
    }
    const fields = { status: error.status, reason: error.code, durationMs: elapsed() };
    if (error instanceof QueueUnavailableError) {
      // The message is enough (ECONNREFUSED, "Stream isn't writeable"): an outage would log one stack per delivery.
      const cause = error.cause instanceof Error ? error.cause.message : String(error.cause);
      log.error({ ...fields, cause }, `Could not store the job (${cause}); answered 503`);
    } else if (error instanceof SignatureError) {
      // The headers help find a misconfigured secret; the logger redacts the signature itself.
      log.warn(
        { ...fields, req: { method: req.method, url: req.url, headers: req.headers } },
        `Refused: ${error.message}`,
      );
    } else {
      log.warn(fields, `Refused: ${error.message}`);
    }
    reply(error.status, { error: error.message }, error.closeConnection);
  }
}

/** A header's value, or undefined when it is absent or empty. */
function singleHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

// JSON is UTF-8 (RFC 8259) and GitHub sends nothing else: a body that is not would otherwise be read
// with U+FFFD in place of its bad bytes, and a job would carry text nobody sent.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(body: Buffer): unknown {
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    throw new BadDeliveryError('the body is not valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BadDeliveryError('the body is not valid JSON');
  }
}
