import { type Classification, classifyError, readHeader } from '@runner/retry';

/**
 * `classifyError` refined with what OpenAI-compatible servers say beyond the status:
 * a 429 whose body says `insufficient_quota` means the account's quota is spent, which no retry fixes;
 * `x-should-retry`, which openai-node also obeys, lets the server overrule the status either way.
 */
export function classifyLlmError(error: unknown, nowMs: number = Date.now()): Classification {
  const base = classifyError(error, nowMs);
  if (typeof error !== 'object' || error === null) return base;
  const { code, type, headers } = error as { code?: unknown; type?: unknown; headers?: unknown };

  if (base.status === 429 && (code === 'insufficient_quota' || type === 'insufficient_quota')) {
    return { retryable: false, reason: 'insufficient quota', status: 429 };
  }
  const shouldRetry = readHeader(headers as Headers | undefined, 'x-should-retry');
  if (shouldRetry === 'true' && !base.retryable) return { ...base, retryable: true };
  if (shouldRetry === 'false' && base.retryable) return { ...base, retryable: false };
  return base;
}
