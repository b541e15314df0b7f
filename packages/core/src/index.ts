// Public surface of @hotpath/core: the model, ids, builder, errors, formats and transforms.
export * from './model.ts';
export * from './ids.ts';
export * from './builder.ts';
export * from './frame-kind.ts';
export * from './errors.ts';
export * from './formats/index.ts';
export * from './transforms/index.ts';
export * from './random.ts';
