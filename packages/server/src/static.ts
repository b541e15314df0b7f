// Serves the built web UI (packages/ui/dist) at `/`: files with their content types, index.html for
// client-side routes (paths without a file extension), and a short "UI not built" page when the
// directory has no index.html yet. No dependencies; files are read per request (the UI is small and
// may be rebuilt while the server runs).

import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { routeNotFound } from './client-error.ts';
import { sendError } from './connect/unary.ts';
import { requestErrors } from './errors.ts';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

/** Paths that belong to APIs: never answered with the UI's index.html. */
const API_PREFIXES = [
  '/api/',
  '/pyroscope/',
  '/ingest',
  '/render',
  '/metrics',
  '/ready',
  '/querier.v1.',
  '/push.v1.',
  '/types.v1.',
  '/settings.v1.',
];

export const NOT_BUILT_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Hotpath</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>Hotpath is running</h1>
<p>The web UI is not built yet. Build it with <code>make build</code> (or <code>npm run build -w packages/ui</code>)
and reload this page.</p>
<p>The ingest and query APIs work without it: see <code>docs/server.md</code>.</p>
</body></html>
`;

/** The default UI directory: ui/ beside dist/ in the packed package (scripts/pack.mjs), else
 * packages/ui/dist of the repository. */
export function defaultUiDir(): string {
  const packed = resolve(new URL('../ui', import.meta.url).pathname);
  if (existsSync(join(packed, 'index.html'))) return packed;
  return resolve(new URL('../../ui/dist', import.meta.url).pathname);
}

function sendFile(reply: FastifyReply, path: string): FastifyReply {
  const ext = extname(path).toLowerCase();
  reply.type(CONTENT_TYPES[ext] ?? 'application/octet-stream');
  // Hashed asset names can be cached for long; index.html must be revalidated.
  reply.header(
    'cache-control',
    ext === '.html'
      ? 'no-cache'
      : /[.-][0-9a-zA-Z_-]{8,}\.[a-z0-9]+$/.test(path)
        ? 'public, max-age=31536000, immutable'
        : 'no-cache',
  );
  return reply.send(readFileSync(path));
}

export async function registerStatic(app: FastifyInstance, uiDir: string): Promise<void> {
  const root = resolve(uiDir);
  const handler = async (request: { url: string }, reply: FastifyReply) => {
    const index = join(root, 'index.html');
    let path = decodeURIComponentSafe(request.url.split('?')[0] ?? '/');
    if (path === undefined) return sendError(reply, requestErrors.malformedPath());
    if (!existsSync(index)) {
      if (path === '/' || path === '/index.html')
        return reply.code(200).type('text/html; charset=utf-8').send(NOT_BUILT_PAGE);
      return sendError(reply, routeNotFound('GET', path));
    }
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) return sendError(reply, routeNotFound('GET', path));
    if (existsSync(file) && statSync(file).isFile()) return sendFile(reply, file);
    if (extname(path) === '' && !API_PREFIXES.some((p) => path!.startsWith(p))) return sendFile(reply, index);
    return sendError(reply, routeNotFound('GET', path));
  };
  app.get('/', handler);
  app.get('/*', handler);
}

function decodeURIComponentSafe(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
