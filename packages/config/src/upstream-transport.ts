/** Hosts a plain-http upstream may have without `ALLOW_INSECURE_UPSTREAMS`: this machine only. */
function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return (
    host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host)
  );
}

/**
 * The installation token and the LLM key travel in headers: over plain http to another machine anyone on
 * the path can read them. So an `http:` upstream must be on loopback, unless the operator says the
 * network is trusted (a sidecar, a cluster-internal proxy) with `ALLOW_INSECURE_UPSTREAMS=1`.
 */
export function checkUpstreamTransport(
  upstreams: ReadonlyArray<{ name: string; url: string | undefined; carries: string }>,
  allowInsecure: boolean,
  problems: string[],
): void {
  if (allowInsecure) return;
  for (const { name, url, carries } of upstreams) {
    if (url === undefined) continue;
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' || isLoopback(parsed.hostname)) continue;
    problems.push(
      `${name}: http:// would send ${carries} unencrypted to ${parsed.host}; use https://, or set ALLOW_INSECURE_UPSTREAMS=1 if that network is trusted`,
    );
  }
}
