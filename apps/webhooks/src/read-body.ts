import type { IncomingMessage } from 'node:http';
import { BodyTimeoutError, BodyTooLargeError, RequestAbortedError } from './intake-error.ts';

export interface ReadBodyOptions {
  /** Largest body accepted, in bytes. */
  maxBytes: number;
  /** Time from the headers to the last byte of the body, in ms. */
  timeoutMs: number;
}

/**
 * Reads the whole request body, holding at most `maxBytes` in memory.
 * - A `Content-Length` over the limit is refused before a byte of the body is read.
 * - A body without one (chunked) is counted as it streams and refused as soon as it passes the limit.
 * - A body that has not fully arrived `timeoutMs` after the headers is refused, however slowly it trickles.
 * On refusal the request is paused and left unread: the caller answers with `Connection: close`, so Node
 * closes the socket instead of draining the rest.
 * @throws BodyTooLargeError, BodyTimeoutError, RequestAbortedError (the client went away).
 */
export function readBody(req: IncomingMessage, options: ReadBodyOptions): Promise<Buffer> {
  const { maxBytes, timeoutMs } = options;
  const declared = req.headers['content-length'];
  // Node's parser has already rejected a Content-Length that is not a number.
  if (declared !== undefined && Number(declared) > maxBytes) {
    return Promise.reject(new BodyTooLargeError(maxBytes));
  }

  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;

    const stop = (): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onError);
    };
    const refuse = (error: Error): void => {
      stop();
      req.pause();
      // The socket may still report errors (a reset while we answer); nobody is listening for the body.
      req.on('error', () => {});
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > maxBytes) refuse(new BodyTooLargeError(maxBytes));
      else chunks.push(chunk);
    };
    const onEnd = (): void => {
      stop();
      resolve(Buffer.concat(chunks, received));
    };
    // 'close' before 'end' means the client went away mid-body.
    const onClose = (): void => refuse(new RequestAbortedError());
    const onError = (error: Error): void => refuse(new RequestAbortedError(error));
    const timer = setTimeout(() => refuse(new BodyTimeoutError(timeoutMs)), timeoutMs);

    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onError);
  });
}
