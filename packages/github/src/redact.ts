/**
 * Removes `secret` from an error's `message` and from a text body it carries (`response.data`), in place.
 *
 * `@octokit/request` already redacts the `authorization` header in `error.request.headers`
 * (`bearer [REDACTED]`, `token [REDACTED]`), but an error message is GitHub's body, verbatim when it is
 * not JSON: a proxy that echoes the request would put the credential there. Called before the error
 * reaches a log line, a retry event or another error's message.
 */
export function redactSecret<T>(error: T, secret: string): T {
  if (secret === '' || typeof error !== 'object' || error === null) return error;
  const scrub = (text: string) => text.replaceAll(secret, '[REDACTED]');
  const target = error as { message?: unknown; response?: { data?: unknown } };
  try {
    if (typeof target.message === 'string' && target.message.includes(secret)) {
      target.message = scrub(target.message);
    }
    const response = target.response;
    if (typeof response?.data === 'string' && response.data.includes(secret)) {
      response.data = scrub(response.data);
    }
  } catch {
    // A frozen or exotic error cannot be scrubbed; it is still thrown, as it was.
  }
  return error;
}
