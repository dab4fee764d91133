/**
 * `work`, or a rejection with `timeoutError()` once `timeoutMs` has passed, whichever comes first; the
 * timer is cleared either way. A late answer of `work` is dropped: the race has a handler on it, so a
 * late rejection is not unhandled. It does not stop `work`; a caller that can should abort it.
 */
export async function withTimeout<T>(
  work: Promise<T>,
  timeoutMs: number,
  timeoutError: () => Error,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError()), timeoutMs);
  });
  try {
    return await Promise.race([work, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
