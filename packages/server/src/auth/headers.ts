// Security headers on every response (UI and API) through @fastify/helmet. The CSP allows what the
// built UI loads: its own scripts and styles (plus style attributes, which uPlot and React set), images
// from data:/blob: URLs (favicon, exported files) and fetches to this server only.

import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

export async function registerSecurityHeaders(app: FastifyInstance, opts: { https: boolean }): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        workerSrc: ["'self'", 'blob:'],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        // Only over TLS: on plain HTTP (a LAN address) it would send the UI's requests to https.
        ...(opts.https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // HSTS over plain HTTP is ignored by browsers, and pinning https on localhost would outlive the server.
    strictTransportSecurity: opts.https ? { maxAge: 15_552_000, includeSubDomains: false } : false,
  });
}
