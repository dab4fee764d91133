/** Thrown when a script key is not of the form `"METHOD /path"`. */
export class InvalidRouteError extends Error {
  override readonly name = 'InvalidRouteError';
  constructor(readonly route: string) {
    super(`Invalid route "${route}": expected "METHOD /path", e.g. "POST /v1/chat/completions"`);
  }
}

/** A parsed script key such as `"GET /repos/:owner/:repo/issues/:number"`. */
export interface Route {
  /** Canonical key: upper-case method, single space, path without a trailing slash. */
  readonly key: string;
  readonly method: string;
  readonly segments: readonly string[];
  /** Literal (non-`:param`) segment count; more literal segments means more specific. */
  readonly literalCount: number;
}

/** The result of matching a request against a {@link Route}. */
export interface RouteMatch {
  readonly route: Route;
  readonly params: Readonly<Record<string, string>>;
}

const routePattern = /^([A-Za-z]+)\s+(\/\S*)$/;

function splitPath(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '');
}

/** Parses `"METHOD /path/:param"` into a {@link Route}; throws {@link InvalidRouteError}. */
export function parseRoute(key: string): Route {
  const match = routePattern.exec(key.trim());
  const method = match?.[1];
  const path = match?.[2];
  if (method === undefined || path === undefined) throw new InvalidRouteError(key);
  const segments = splitPath(path);
  if (segments.some((segment) => segment === ':')) throw new InvalidRouteError(key);
  const upper = method.toUpperCase();
  return {
    key: `${upper} /${segments.join('/')}`,
    method: upper,
    segments,
    literalCount: segments.filter((segment) => !segment.startsWith(':')).length,
  };
}

/** Canonical form of a route key, so `"post /v1/x/"` and `"POST /v1/x"` name the same route. */
export function canonicalRouteKey(key: string): string {
  return parseRoute(key).key;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    // A malformed escape is still a valid path segment for a fake server; keep it raw.
    return segment;
  }
}

function matchOne(route: Route, method: string, segments: readonly string[]): RouteMatch | undefined {
  if (route.method !== method || route.segments.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, pattern] of route.segments.entries()) {
    const actual = segments[index] ?? '';
    if (pattern.startsWith(':')) params[pattern.slice(1)] = decodeSegment(actual);
    else if (pattern !== actual) return undefined;
  }
  return { route, params };
}

/**
 * Finds the route for a request. When several match, the one with the most literal
 * segments wins (so `GET /repos/a/b` beats `GET /repos/:owner/:repo`); ties go to the
 * route listed first.
 */
export function matchRoute(routes: Iterable<Route>, method: string, path: string): RouteMatch | undefined {
  const segments = splitPath(path);
  let best: RouteMatch | undefined;
  for (const route of routes) {
    const match = matchOne(route, method.toUpperCase(), segments);
    if (match !== undefined && (best === undefined || route.literalCount > best.route.literalCount)) {
      best = match;
    }
  }
  return best;
}
