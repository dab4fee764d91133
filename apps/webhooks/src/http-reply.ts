import type { ServerResponse } from 'node:http';

export interface ReplyOptions {
  /** Close the connection after this answer (the body was not read to its end, or we are shutting down). */
  close?: boolean;
  headers?: Record<string, string>;
}

/** Answers with a JSON body. Does nothing when the answer was already sent or the socket is gone. */
export function replyJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  options: ReplyOptions = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...(options.close === true ? { connection: 'close' } : {}),
    ...options.headers,
  });
  res.end(text);
}
