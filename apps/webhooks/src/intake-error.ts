/**
 * Why the intake refused a request, as the HTTP status GitHub sees. Each refusal is a named class the
 * handler can `instanceof`; one place (`handleWebhook`) turns them into responses.
 */
export type IntakeErrorCode =
  | 'body_too_large'
  | 'body_timeout'
  | 'request_aborted'
  | 'bad_signature'
  | 'bad_delivery'
  | 'queue_unavailable';

export class IntakeError extends Error {
  override name = 'IntakeError';
  readonly code: IntakeErrorCode;
  /** The status to answer with. */
  readonly status: number;
  /**
   * True when the body was not read to its end: the connection is closed after the answer instead of
   * reading (and discarding) the rest of what the client sends.
   */
  readonly closeConnection: boolean;

  constructor(
    code: IntakeErrorCode,
    status: number,
    message: string,
    options: { closeConnection?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = status;
    this.closeConnection = options.closeConnection ?? false;
  }
}

/** 413: the body is larger than `maxBodyBytes`, by its `Content-Length` or by the bytes that came. */
export class BodyTooLargeError extends IntakeError {
  override name = 'BodyTooLargeError';
  readonly maxBodyBytes: number;

  constructor(maxBodyBytes: number) {
    super('body_too_large', 413, `body is larger than ${maxBodyBytes} bytes`, { closeConnection: true });
    this.maxBodyBytes = maxBodyBytes;
  }
}

/** 408: the whole body did not arrive within `bodyTimeoutMs` of the headers. */
export class BodyTimeoutError extends IntakeError {
  override name = 'BodyTimeoutError';
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super('body_timeout', 408, `body did not arrive within ${timeoutMs} ms`, { closeConnection: true });
    this.timeoutMs = timeoutMs;
  }
}

/** The client went away before sending the whole body: there is nobody to answer. */
export class RequestAbortedError extends IntakeError {
  override name = 'RequestAbortedError';

  constructor(cause?: unknown) {
    super('request_aborted', 400, 'the client closed the request before sending the whole body', {
      closeConnection: true,
      cause,
    });
  }
}

/** 401: `X-Hub-Signature-256` is missing, malformed, or not the HMAC of the body under our secret. */
export class SignatureError extends IntakeError {
  override name = 'SignatureError';

  constructor(message: string) {
    super('bad_signature', 401, message);
  }
}

/** 400: the delivery is signed but cannot become a job: malformed JSON, a missing header or field. */
export class BadDeliveryError extends IntakeError {
  override name = 'BadDeliveryError';

  constructor(message: string) {
    super('bad_delivery', 400, message);
  }
}

/** 503: the job could not be stored (Redis unreachable); GitHub may redeliver. Never a 2xx. */
export class QueueUnavailableError extends IntakeError {
  override name = 'QueueUnavailableError';

  constructor(cause: unknown) {
    super('queue_unavailable', 503, 'queue unavailable, retry later', { cause });
  }
}
