// Pure, DOM-free parts of the UI, importable from Node (benchmarks, tests): tree, layout, transforms.
export * from './flame/tree.ts';
export * from './flame/layout.ts';
export * from './flame/transforms.ts';
export * from './flame/colors.ts';
export * from './state.ts';
