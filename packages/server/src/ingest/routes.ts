// Write path routes: /ingest, /pyroscope/ingest, /push.v1.PusherService/Push.
import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../app.ts';

export async function registerIngestRoutes(_app: FastifyInstance, _deps: ServerDeps): Promise<void> {}
