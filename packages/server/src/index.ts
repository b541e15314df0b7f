// Public surface of @hotpath/server.
export { buildServer, type ServerDeps } from './app.ts';
export type * from './store/types.ts';
export { HotpathError } from './errors.ts';
