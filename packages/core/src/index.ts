// Public surface of @hotpath/core: the model, ids, builder, formats and transforms.
export * from './model.ts';
export * from './ids.ts';
export * from './builder.ts';
