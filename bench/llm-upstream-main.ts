// Benchmark 2's upstream as a process of its own, so that its token bucket keeps time on an event loop
// that no caller shares. Argument: the `LlmUpstreamOptions` as JSON. Requests: `url`, `reset`, `counts`.
import { serveIpc } from './lib/ipc-child.ts';
import { type LlmUpstreamOptions, startLlmUpstream } from './llm-upstream.ts';

export type UpstreamRequestMessage = { id: number; op: 'url' | 'reset' | 'counts' };
/** Answers by status since the last reset; `url` for `url`. */
export type UpstreamReply = { url: string; counts: Record<string, number> };

const upstream = await startLlmUpstream(JSON.parse(process.argv[2] ?? '{}') as LlmUpstreamOptions);
serveIpc<UpstreamRequestMessage, UpstreamReply>(async (message) => {
  if (message.op === 'reset') upstream.reset();
  const counts: Record<string, number> = {};
  for (const { answer } of upstream.log) counts[answer] = (counts[answer] ?? 0) + 1;
  return { url: upstream.url, counts };
});
