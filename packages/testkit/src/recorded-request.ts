import type { IncomingHttpHeaders } from 'node:http';

/** One request as the fake upstream received it; see `FakeUpstream.requests`. */
export interface RecordedRequest {
  /** Upper-case HTTP method. */
  readonly method: string;
  /** URL path without the query string, still percent-encoded as sent. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** The request target exactly as sent: path plus query string. */
  readonly url: string;
  /** Header names are lower-cased; repeated headers are joined with `", "`. */
  readonly headers: Readonly<Record<string, string>>;
  /** Raw body as UTF-8 (empty string when there was none). */
  readonly body: string;
  /** `body` parsed as JSON, or `undefined` when it is empty or not JSON. */
  readonly json: unknown;
  /** Canonical script key that matched (e.g. `"POST /v1/chat/completions"`), or `undefined`. */
  readonly route: string | undefined;
  /** Values of the route's `:param` segments, percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
  /**
   * 1-based call number for this route (for unmatched requests: for this method and path).
   * `setScript` restarts it at 1.
   */
  readonly callNumber: number;
  /**
   * When the request arrived (before its body was read), in milliseconds since the fake
   * upstream started listening; monotonic (`performance.now()`).
   */
  readonly receivedAtMs: number;
  /** Wall-clock arrival time. */
  readonly at: Date;
}

/** Fields of a {@link RecordedRequest} that come from routing rather than from the wire. */
export interface RoutingInfo {
  readonly route: string | undefined;
  readonly params: Readonly<Record<string, string>>;
  readonly callNumber: number;
  readonly receivedAtMs: number;
  readonly at: Date;
}

// Only used to let `URL` parse a request target; never contacted.
const placeholderOrigin = 'http://fake-upstream.invalid';

/** Splits a raw request target into path and query. */
export function parseTarget(target: string): { path: string; query: URLSearchParams } {
  const url = new URL(target, placeholderOrigin);
  return { path: url.pathname, query: url.searchParams };
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

function parseJson(body: string): unknown {
  if (body.trim() === '') return undefined;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

/** Builds a {@link RecordedRequest} from what node:http handed us plus routing info. */
export function recordRequest(
  wire: { method: string; target: string; headers: IncomingHttpHeaders; body: string },
  routing: RoutingInfo,
): RecordedRequest {
  const { path, query } = parseTarget(wire.target);
  return {
    method: wire.method.toUpperCase(),
    path,
    query,
    url: wire.target,
    headers: flattenHeaders(wire.headers),
    body: wire.body,
    json: parseJson(wire.body),
    route: routing.route,
    params: routing.params,
    callNumber: routing.callNumber,
    receivedAtMs: routing.receivedAtMs,
    at: routing.at,
  };
}
