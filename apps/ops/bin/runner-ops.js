#!/usr/bin/env node
// The installed command: runs the TypeScript sources through tsx, which registers itself here, so no
// separate build step is needed on Node 20, 22 or 24.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
