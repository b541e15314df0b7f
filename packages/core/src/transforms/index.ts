// Pure transforms over profiles: merge, tree, truncate, diff, top table, sandwich, focus, filter, flamebearer.
export * from './errors.ts';
export * from './flamebearer.ts';
export * from './call-tree.ts';
export * from './merge.ts';
export * from './top.ts';
export * from './views.ts';
export { compareNames, buildNameTree, type NameTree } from './name-tree.ts';
export * from './regression.ts';
export * from './changes.ts';
