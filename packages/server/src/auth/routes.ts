// The key management API (admin scope; docs/security.md): GET /api/keys lists keys (never their text
// or hash), POST /api/keys creates one and returns its text once, DELETE /api/keys/:id revokes one.
// Registered in its own scope with the default JSON body parser and a 64 KiB body limit.

import type { FastifyInstance } from 'fastify';
import { sendError } from '../connect/unary.ts';
import { HotpathError } from '../errors.ts';
import type { ApiKeyRecord } from '../store/types.ts';
import { tenantFromHeader } from '../tenant.ts';
import { AuthErrors } from './errors.ts';
import type { Auth } from './hook.ts';
import { API_KEY_SCOPES, parseScope } from './keys.ts';

export const KEYS_PATH = '/api/keys';
const MAX_NAME_LENGTH = 200;

/** A key as the API shows it: no hash, no key text. */
export function publicKey(k: ApiKeyRecord) {
  return {
    id: k.id,
    tenant: k.tenant,
    scope: k.scope,
    name: k.name,
    createdMs: k.createdMs,
    revokedMs: k.revokedMs,
  };
}

export async function registerKeyRoutes(app: FastifyInstance, auth: Auth, now: () => number): Promise<void> {
  const guard = auth.guard('admin');
  app.addHook('onRequest', async (request, reply) => {
    if (auth.mode === 'none') return sendError(reply, AuthErrors.authDisabled());
    return guard.call(app, request, reply);
  });
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _request, reply) => {
    if (err instanceof HotpathError) return sendError(reply, err);
    if (typeof err.statusCode === 'number' && err.statusCode < 500)
      return sendError(reply, AuthErrors.invalidKeyRequest(err.message));
    return sendError(reply, err);
  });

  app.get(KEYS_PATH, async () => ({ keys: (await auth.keys.list()).map(publicKey) }));

  app.post(
    KEYS_PATH,
    {
      bodyLimit: 64 * 1024,
      schema: {
        body: {
          type: 'object',
          required: ['tenant', 'scope'],
          additionalProperties: false,
          properties: {
            tenant: { type: 'string', minLength: 1 },
            scope: { type: 'string', enum: [...API_KEY_SCOPES] },
            name: { type: 'string', maxLength: MAX_NAME_LENGTH },
          },
        },
      },
    },
    async (request, reply) => {
      const body = request.body as { tenant: string; scope: string; name?: string };
      const made = await auth.keys.create(
        tenantFromHeader(body.tenant),
        parseScope(body.scope),
        body.name ?? '',
        now(),
      );
      return reply.code(201).send({ key: made.key, ...publicKey(made.record) });
    },
  );

  app.delete(KEYS_PATH + '/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    if (!(await auth.keys.revoke(id, now()))) return sendError(reply, AuthErrors.keyNotFound(id));
    return reply.send({ id, revoked: true });
  });
}
