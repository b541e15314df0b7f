#!/usr/bin/env node
// The `hotpath` command in a clone of the repository: runs the TypeScript sources through tsx's loader.
// The npm package (scripts/pack.mjs, `make pack`) runs compiled JavaScript instead.
import { register } from 'tsx/esm/api';

register();
await import('../src/bin.ts');
