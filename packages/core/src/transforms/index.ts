// Pure transforms over profiles: merge, tree, truncate, diff, top table, sandwich, focus, filter, flamebearer.
export * from './errors.ts';
export * from './flamebearer.ts';
export * from './call-tree.ts';
export { compareNames } from './name-tree.ts';
