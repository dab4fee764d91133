// The README's first command. Runs the runner's resilience against local fake upstreams that inject
// faults on a script, and prints what each layer does about them. Grows with the product: the job and
// tool levels join it as they land (docs/architecture.md).

import { generateKeyPairSync } from 'node:crypto';
import {
  createInstallationOctokit,
  createIssueTools,
  InstallationTokens,
  RedisToolResultStore,
} from '@runner/github';
import { type ChatResult, LlmClient, type LlmError } from '@runner/llm';
import { CircuitBreaker, type Logger, type RetryPolicy } from '@runner/retry';
import {
  chatCompletion,
  type FakeUpstream,
  fakeGitHubRoutes,
  githubReply,
  reply,
  type Step,
  startFakeGitHub,
  startFakeUpstream,
  startRedis,
} from '@runner/testkit';
import { Redis } from 'ioredis';

const route = 'POST /v1/chat/completions';
const t0 = performance.now();
const stamp = () => `T+${((performance.now() - t0) / 1000).toFixed(2)}s`.padEnd(9);

/** People read the message; the fields are what pino would carry for machines. */
const logger: Logger = {
  debug: () => {},
  info: (fields, message) => print(fields, message),
  warn: (fields, message) => print(fields, message),
  error: (fields, message) => print(fields, message),
};
function print(fields: Record<string, unknown>, message: string) {
  const where = fields.layer ? `[${String(fields.layer)}/${String(fields.target)}] ` : '';
  console.log(`${stamp()}   ${where}${message}`);
}

async function scene(
  title: string,
  steps: Step[],
  run: (client: LlmClient, upstream: FakeUpstream) => Promise<void>,
  policy?: RetryPolicy,
) {
  console.log(`\n== ${title}`);
  const upstream = await startFakeUpstream({ [route]: steps });
  try {
    const client = new LlmClient({
      baseUrl: `${upstream.url}/v1`,
      apiKey: 'demo-key',
      model: 'glm-4.6',
      logger,
      ...(policy ? { policy } : {}),
      breaker: new CircuitBreaker({ name: 'llm:demo', failureThreshold: 5, cooldownMs: 30_000 }),
    });
    await run(client, upstream);
    const seen = upstream.requests.map((r) => `+${(r.receivedAtMs / 1000).toFixed(2)}s`);
    console.log(
      `${stamp()}   the fake LLM saw ${upstream.requests.length} request(s), at ${seen.join(', ')} from its start`,
    );
  } finally {
    await upstream.close();
  }
}

function said(result: ChatResult) {
  return `"${result.message.content}" after ${result.attempts} attempt(s), ${result.usage?.totalTokens ?? 0} tokens`;
}

const ok = reply.json(200, chatCompletion('Thanks for the report! I had a look at the stack trace.'));
const quick: RetryPolicy = {
  maxRetries: 5,
  initialDelayMs: 250,
  maxDelayMs: 4_000,
  multiplier: 2,
  jitter: 'full',
  timeoutMs: 1_000,
};

await scene(
  'Layer 1: the LLM answers 429 with Retry-After: 1, then 200 (the llm policy: 5 retries, 1-60 s)',
  [reply.rateLimited({ retryAfterSeconds: 1 }), ok],
  async (client) => {
    const result = await client.chat({ messages: [{ role: 'user', content: 'Summarise issue #1' }] });
    console.log(`${stamp()}   answer: ${said(result)}`);
  },
);

await scene(
  'Layer 1: a storm of 503, 429, 502, a hang and a reset mid-response, then 200 (jittered backoff from 250 ms, 1 s timeout)',
  [
    reply.status(503),
    reply.rateLimited({}),
    reply.status(502),
    reply.hang(),
    reply.resetMidBody({ body: chatCompletion('cut off') }),
    ok,
  ],
  async (client) => {
    const result = await client.chat({ messages: [{ role: 'user', content: 'Summarise issue #2' }] });
    console.log(`${stamp()}   answer: ${said(result)}`);
  },
  quick,
);

await scene(
  'Layer 1: an outage (always 503); the circuit opens after 5 failures and later calls fail fast',
  [reply.status(503)],
  async (client) => {
    for (let call = 1; call <= 3; call++) {
      const error = (await client
        .chat({ messages: [{ role: 'user', content: `call ${call}` }] })
        .catch((e: unknown) => e)) as LlmError;
      console.log(`${stamp()}   call ${call} failed: ${error.message} (retryable later: ${error.retryable})`);
    }
  },
  { ...quick, maxRetries: 2 },
);

await scene('Layer 1: a bad API key (401) is not retried', [reply.status(401), ok], async (client) => {
  const error = (await client
    .chat({ messages: [{ role: 'user', content: 'hi' }] })
    .catch((e: unknown) => e)) as LlmError;
  console.log(`${stamp()}   failed at once: ${error.message}`);
});

console.log(
  '\n== Layer 2: comment_on_issue meets a rate limit (403, reset in 1 s), then a 502 after GitHub stored the comment',
);
{
  const redisServer = await startRedis();
  const redis = new Redis(redisServer.url);
  const github = await startFakeGitHub({
    faults: {
      [fakeGitHubRoutes.createComment]: [
        githubReply.primaryRateLimit({ resetInSeconds: 1 }),
        { afterHandling: reply.status(502) },
      ],
    },
  });
  try {
    // A throwaway App key: the fake GitHub accepts any JWT, but the client signs a real one.
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const tokens = new InstallationTokens({ appId: '123456', privateKey, baseUrl: github.url, logger });
    const octokit = createInstallationOctokit({ tokens, installationId: 1, logger });
    const tools = createIssueTools({
      octokit,
      issue: { owner: 'octo-org', repo: 'octo-repo', number: 1 },
      jobId: 'demo-job',
      results: new RedisToolResultStore(redis, { prefix: `demo:${Date.now()}` }),
      logger,
    });
    const comment = tools.find((tool) => tool.definition.function.name === 'comment_on_issue');
    const args = JSON.stringify({
      body: 'Thanks for the report! The crash comes from a missing config file.',
    });
    const result = await comment?.run(args, 0);
    console.log(`${stamp()}   result: ${result}`);
    const rerun = await comment?.run(args, 0);
    console.log(`${stamp()}   run again by a requeued job: ${rerun} (recorded, no request)`);
    const posted = github.comments('octo-org', 'octo-repo', 1).filter((c) => c.user.type === 'Bot');
    console.log(
      `${stamp()}   the fake GitHub saw ${github.requestsTo(fakeGitHubRoutes.createComment).length} POSTs and holds ${posted.length} comment from the app`,
    );
  } finally {
    await github.close();
    redis.disconnect();
    await redisServer.stop();
  }
}

console.log(
  `\nDone in ${((performance.now() - t0) / 1000).toFixed(1)}s. Next to join this demo: job-level requeues in BullMQ.`,
);
