import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Commands our scripts may call without a key: they touch no data. */
const keylessCommands = new Set(['TIME']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Every Lua script in the packages' and apps' sources: the template literals that call redis. */
function luaScripts(): Array<{ file: string; source: string }> {
  return ['packages', 'apps'].flatMap((top) =>
    sourceFiles(join(repoRoot, top)).flatMap((path) =>
      [...readFileSync(path, 'utf8').matchAll(/`([^`]*redis\.call\([^`]*)`/g)].map(([, source = '']) => ({
        file: relative(repoRoot, path),
        source,
      })),
    ),
  );
}

/**
 * On a Redis Cluster a script may touch only the keys it is given in KEYS (Redis routes it by them and
 * refuses keys of another slot), and the callers build every key from the queue prefix, whose hash tag
 * puts them in one slot (`redis-cluster.test.ts` checks that at run time). This keeps the first half
 * true for every script: a key named inside a script, or built from ARGV, fails here.
 */
describe('our Lua scripts', () => {
  const scripts = luaScripts();

  it('are all found (dedupe marks, completed runs, cooldown, circuit, budget, rate limit)', () => {
    // One each; a script added elsewhere belongs in this list, so that the scan is known to see it.
    expect(scripts.map((script) => script.file).sort()).toEqual([
      'packages/fleet/src/redis-circuit-store.ts',
      'packages/fleet/src/redis-cooldown-store.ts',
      'packages/fleet/src/redis-rate-limiter.ts',
      'packages/fleet/src/redis-retry-budget.ts',
      'packages/queue/src/completed-run.ts',
      'packages/queue/src/enqueue-delivery.ts',
    ]);
  });

  it.each(scripts.map((script) => [script.file, script] as const))(
    'in %s touch only keys passed in KEYS',
    (_file, { source }) => {
      const calls = [...source.matchAll(/redis\.call\(\s*'([A-Za-z]+)'\s*(?:,\s*([^,)]+))?/g)];
      expect(calls.length).toBeGreaterThan(0);
      for (const [call, command = '', firstArgument] of calls) {
        if (keylessCommands.has(command.toUpperCase())) continue;
        expect(firstArgument?.trim(), call).toMatch(/^KEYS\[\d+\]$/);
      }
    },
  );
});
