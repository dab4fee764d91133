import { createHmac } from 'node:crypto';
import { seededRandom } from '@runner/retry';

/** One webhook delivery as GitHub sends it: the raw body and the headers that go with it. */
export interface SignedDelivery {
  body: Buffer;
  headers: Record<string, string>;
}

export interface DeliveryOptions {
  secret: string;
  /** Size of each body, in bytes (ASCII, so bytes and characters agree). */
  bodyBytes: number;
  /** Seeds the padding text: both arms of a pair send the same bytes. */
  seed: number;
  /** Makes delivery ids unique across phases: `<tag>-<index>`. */
  tag: string;
}

/**
 * Signed `issues.opened` deliveries of exactly `bodyBytes`, the issue body padded with seeded text.
 * Each has its own delivery id and its own body (the id is in the title and the body), so that neither
 * the intake's delivery-id dedupe nor its body-hash dedupe ever short-circuits a request.
 */
export function signedDeliveries(options: DeliveryOptions): (index: number) => SignedDelivery {
  const random = seededRandom(options.seed);
  const words = ['stack', 'trace', 'error', 'when', 'starting', 'the', 'worker', 'after', 'upgrade', 'log:'];
  let padding = '';
  while (padding.length < options.bodyBytes) padding += `${words[Math.floor(random() * words.length)]} `;

  const payload = (id: string, index: number, text: string) =>
    JSON.stringify({
      action: 'opened',
      issue: {
        number: index + 1,
        title: `Benchmark issue ${id}`,
        body: `${id}: ${text}`,
        user: { login: 'octocat', type: 'User' },
        state: 'open',
      },
      repository: { name: 'octo-repo', full_name: 'octo-org/octo-repo', owner: { login: 'octo-org' } },
      sender: { login: 'octocat', type: 'User' },
      installation: { id: 42 },
    });

  return (index) => {
    const id = `${options.tag}-${index}`;
    const base = payload(id, index, '').length;
    const body = Buffer.from(payload(id, index, padding.slice(0, Math.max(0, options.bodyBytes - base))));
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'content-length': String(body.length),
        'user-agent': 'GitHub-Hookshot/bench',
        'x-github-event': 'issues',
        'x-github-delivery': id,
        'x-hub-signature-256': `sha256=${createHmac('sha256', options.secret).update(body).digest('hex')}`,
      },
    };
  };
}
