// The containers' HEALTHCHECK: exits 0 when the URL given answers 200 within 3 s, else 1. A file of
// its own because slim images have neither curl nor wget.
const url = process.argv[2];
if (!url) {
  process.stderr.write('usage: node healthcheck.mjs http://127.0.0.1:<port>/healthz\n');
  process.exit(2);
}
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
  process.exit(response.status === 200 ? 0 : 1);
} catch (error) {
  process.stderr.write(`${url}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
