// Read path routes: querier.v1.QuerierService (Connect), /pyroscope/render and the legacy HTTP API.
import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../app.ts';

export async function registerQueryRoutes(_app: FastifyInstance, _deps: ServerDeps): Promise<void> {}
