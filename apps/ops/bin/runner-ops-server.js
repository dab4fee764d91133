#!/usr/bin/env node
// The ops server as an installed command (containers run it by this name); see runner-ops.js for why
// the TypeScript sources run through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../src/server/main.ts');
