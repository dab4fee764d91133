// A fake LLM in a process of its own, answering every chat completion with 200: the test that measures
// request spacing reads arrival times stamped here, away from the event loop of the 50 clients it runs.
import { chatCompletion, reply, startFakeUpstream } from '@runner/testkit';

const upstream = await startFakeUpstream({
  'POST /v1/chat/completions': [reply.json(200, chatCompletion('ok'))],
  'GET /arrivals': () =>
    reply.json(
      200,
      upstream.requestsTo('POST /v1/chat/completions').map((r) => r.receivedAtMs),
    ),
});
process.stdout.write(`${upstream.url}\n`);
process.on('SIGTERM', () => {
  void upstream.close().then(() => process.exit(0));
});
