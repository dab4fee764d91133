// The README's first command: the whole runner on one machine, against a private redis-server and fake
// GitHub and LLM servers on loopback that inject faults on a script, so that every layer retries once:
//   layer 1: the LLM answers 429 with Retry-After: 1 (waited out, then retried)
//   layer 2: GitHub stores the comment but a proxy answers 502 (retried; the comment's marker is found,
//            so it is not posted twice)
//   layer 3: GitHub's issue API is down for longer than the tool level retries (the job is requeued)
// The same apps run against real GitHub and a real LLM when the environment says so (README).
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { loadConfig } from '@runner/config';
import { runCli } from '@runner/ops';
import { createAgentQueue, RetryTracker } from '@runner/queue';
import {
  fakeGitHubRoutes,
  reply,
  startFakeGitHub,
  startFakeUpstream,
  startRedis,
  triageModel,
} from '@runner/testkit';
import { type IntakeLogger, signBody, startIntake } from '@runner/webhooks';
import { startWorker } from '@runner/worker';
import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';

const t0 = performance.now();
const stamp = () => `T+${((performance.now() - t0) / 1000).toFixed(2)}s`.padEnd(9);
const say = (text: string) => console.log(`${stamp()} ${text}`);

/** Log records for people: the message, and where it comes from. Fields stay what pino would carry. */
function consoleLogger(bindings: Record<string, unknown> = {}): IntakeLogger {
  const print = (level: string) => (fields: Record<string, unknown>, message: string) => {
    const all = { ...bindings, ...fields };
    if (level === 'debug') return;
    const where = all.layer
      ? `[${String(all.layer)}${all.target ? `/${String(all.target)}` : ''}]`
      : `[${String(all.app ?? 'runner')}]`;
    console.log(`${stamp()}   ${where} ${message}`);
  };
  return {
    debug: print('debug'),
    info: print('info'),
    warn: print('warn'),
    error: print('error'),
    child: (more) => consoleLogger({ ...bindings, ...more }),
  };
}

say('Starting a private redis-server, a fake GitHub and a fake OpenAI-compatible LLM on loopback');
const redisServer = await startRedis({ forcePrivate: true });
const github = await startFakeGitHub({
  faults: {
    // An outage of GitHub's issue API, longer than the tool level's retries: the job level takes over.
    [fakeGitHubRoutes.getIssue]: [reply.status(503), reply.status(503), reply.status(503)],
    // GitHub stores the comment, but the answer is lost behind a 502.
    [fakeGitHubRoutes.createComment]: [{ afterHandling: reply.status(502) }],
  },
});
const llm = await startFakeUpstream({
  'POST /v1/chat/completions': [reply.rateLimited({ retryAfterSeconds: 1 }), triageModel()],
});

const { privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
const webhookSecret = randomUUID();
const config = loadConfig(
  {
    REDIS_URL: redisServer.url,
    QUEUE_PREFIX: 'demo',
    WEBHOOKS_PORT: '0',
    GITHUB_APP_ID: '123456',
    GITHUB_APP_PRIVATE_KEY: privateKey,
    GITHUB_WEBHOOK_SECRET: webhookSecret,
    GITHUB_APP_SLUG: 'runner-app',
    GITHUB_API_URL: github.url,
    LLM_BASE_URL: `${llm.url}/v1`,
    LLM_API_KEY: 'demo-key',
    // Two tool-level retries instead of three, to keep the demo short; every other number is the default.
    RETRY_GITHUB_TOOLS_MAX_RETRIES: '2',
  },
  { needs: ['githubApp', 'webhooks'] },
);

const logger = consoleLogger();
const intake = await startIntake(config, logger.child({ app: 'webhooks' }), { host: '127.0.0.1' });
const worker = await startWorker(config, { logger: logger.child({ app: 'worker' }) });
const connection = { url: config.redisUrl, maxRetriesPerRequest: null };
const queue = createAgentQueue({ connection, prefix: config.queue.prefix });
const events = new QueueEvents('agent-jobs', { connection, prefix: config.queue.prefix });
await events.waitUntilReady();

const deliveryId = randomUUID();
const body = JSON.stringify({
  action: 'opened',
  issue: {
    number: 1,
    title: 'Crash on start',
    body: 'Stack trace: ...',
    user: { login: 'octocat', type: 'User' },
  },
  repository: { name: 'octo-repo', full_name: 'octo-org/octo-repo', owner: { login: 'octo-org' } },
  sender: { login: 'octocat', type: 'User' },
  installation: { id: 42 },
});
/** POSTs the delivery to the intake as GitHub would: signed with the webhook secret. */
const deliver = () =>
  fetch(`${intake.url}/webhooks`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'issues',
      'x-github-delivery': deliveryId,
      'x-hub-signature-256': signBody(body, webhookSecret),
    },
    body,
  });
say(`GitHub sends a signed issues.opened webhook (delivery ${deliveryId})`);
const response = await deliver();
say(`The intake answered ${response.status} ${(await response.text()).trim()}`);
const redelivered = await deliver();
say(`GitHub redelivers it; the intake answers ${redelivered.status} ${(await redelivered.text()).trim()}`);

const job = await queue.getJob(deliveryId);
let exitCode = 0;
try {
  await job?.waitUntilFinished(events, 120_000);
  say('The job completed');
} catch (error) {
  exitCode = 1;
  say(`The job failed: ${(error as Error).message}`);
}

const redis = new Redis(config.redisUrl);
const record = await new RetryTracker(redis, config.queue.prefix).read(deliveryId);
const comments = github.comments('octo-org', 'octo-repo', 1).filter((c) => c.user.type === 'Bot');
const finished = await queue.getJob(deliveryId);
console.log('\nSummary');
console.log(
  `  job ${deliveryId}: ${await finished?.getState()}, ${finished?.attemptsStarted} runs, ${record.retryCount} requeue(s)`,
);
console.log(
  `  comments by the app on octo-org/octo-repo#1: ${comments.length} (POSTs that reached GitHub: ${github.requestsTo(fakeGitHubRoutes.createComment).length})`,
);
console.log(`  requests: LLM ${llm.requests.length}, GitHub ${github.requests.length}`);
console.log(`\n$ runner-ops job ${deliveryId}`);
const opsExit = await runCli(['job', deliveryId], {
  env: { REDIS_URL: config.redisUrl, QUEUE_PREFIX: config.queue.prefix, NO_COLOR: '1' },
  stdout: process.stdout,
  stderr: process.stderr,
  isTTY: false,
});
if (opsExit !== 0) exitCode = 1;
if (comments.length !== 1) exitCode = 1;

redis.disconnect();
await worker.close(5_000);
await intake.close();
await events.close();
await queue.close();
await llm.close();
await github.close();
await redisServer.stop();
console.log(`\nDone in ${((performance.now() - t0) / 1000).toFixed(1)}s.`);
process.exit(exitCode);
