import { describe, expect, it } from 'vitest';
import { canonicalRouteKey, InvalidRouteError, matchRoute, parseRoute } from './route-matcher.ts';

describe('route matcher', () => {
  it('canonicalises method case and trailing slashes', () => {
    expect(canonicalRouteKey('post  /v1/chat/completions/')).toBe('POST /v1/chat/completions');
  });

  it('rejects keys without a method or path', () => {
    expect(() => parseRoute('/v1/models')).toThrow(InvalidRouteError);
    expect(() => parseRoute('GET v1/models')).toThrow(InvalidRouteError);
  });

  it('extracts decoded params and prefers the most literal route', () => {
    const routes = [parseRoute('GET /repos/:owner/:repo'), parseRoute('GET /repos/acme/:repo')];
    expect(matchRoute(routes, 'get', '/repos/acme/a%2Fb')).toEqual({
      route: routes[1],
      params: { repo: 'a/b' },
    });
    expect(matchRoute(routes, 'GET', '/repos/other/x')?.params).toEqual({ owner: 'other', repo: 'x' });
    expect(matchRoute(routes, 'POST', '/repos/other/x')).toBeUndefined();
    expect(matchRoute(routes, 'GET', '/repos/other')).toBeUndefined();
  });
});
