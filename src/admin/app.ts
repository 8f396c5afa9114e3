/**
 * The routes of the admin listener (Hono): /metrics (Prometheus text) and
 * the JSON API under /api/v1, both behind access.ts, and the public routes
 * of public/ (MTA-STS, client autoconfiguration, CA and CRL). Every
 * response, errors and 404s included, carries HSTS, nosniff, a CSP that
 * allows nothing and no-store, unless a public route chose its own
 * Cache-Control: these are data endpoints, never pages.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { HttpBindings } from '@hono/node-server';
import type { z } from 'zod';
import type { Logger } from '../metrics/logger.js';
import { EVENT_KINDS } from '../metrics/events.js';
import type { PosternMetrics } from '../metrics/prometheus.js';
import type { EventRepo, DeliveryTimeRepo } from '../store/types.js';
import type { Clock } from '../core/clock.js';
import { decideAccess, type AccessRules } from './access.js';
import { deliveryTimesQuery, describeIssues, eventsQuery, noQuery } from './params.js';
import type { StatusSource } from './status.js';
import { createPublicApp, type PublicDeps } from './public/routes.js';
import { CONSOLE_CSP, createConsoleApp, isConsolePath, type ConsoleDeps } from './console/index.js';

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Strict-Transport-Security': 'max-age=31536000',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/**
 * The console's pages load their own script and stylesheet, and their forms
 * post back with an Origin the console checks: under no-referrer a browser
 * sends "Origin: null", so these pages say same-origin instead.
 */
const CONSOLE_HEADERS: Readonly<Record<string, string>> = { 'Content-Security-Policy': CONSOLE_CSP, 'Referrer-Policy': 'same-origin' };

/** Only the autodiscover POST reads a body; anything larger than this is cut off with 413. */
export const MAX_BODY_BYTES = 16 * 1024;

export interface ListenerInfo {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly tls: string;
}

export interface AdminAppDeps {
  readonly metrics: PosternMetrics;
  readonly status: StatusSource;
  readonly events: Pick<EventRepo, 'list'>;
  readonly deliveryTimes: Pick<DeliveryTimeRepo, 'summary'>;
  readonly access: AccessRules;
  readonly node: string;
  readonly version: string;
  readonly listeners: () => readonly ListenerInfo[];
  readonly clock: Clock;
  readonly log: Logger;
  /** The unauthenticated routes; absent: none are served. */
  readonly public?: Omit<PublicDeps, 'listeners' | 'log'>;
  /** The web console under /console; absent: not served. */
  readonly console?: ConsoleDeps;
}

type Env = { Bindings: HttpBindings };

export function createAdminApp(d: AdminAppDeps): Hono<Env> {
  const app = new Hono<Env>();

  app.use('*', async (c, next) => {
    await next();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) {
      // Public documents (MTA-STS policy, CA certificate) may be cached; everything else is no-store.
      if (k === 'Cache-Control' && c.res.headers.has(k)) continue;
      c.res.headers.set(k, isConsolePath(c.req.path) ? (CONSOLE_HEADERS[k] ?? v) : v);
    }
  });
  app.use('*', bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => c.json({ error: 'request body too large' }, 413) }));

  const guard = async (c: Context<Env>, next: () => Promise<void>) => {
    const decision = decideAccess(d.access, c.req.header('authorization'), c.env.incoming.socket);
    if (decision === 'forbidden') return c.json({ error: 'metrics access is not configured ([admin] metrics_token_file or client_ca)' }, 403);
    if (decision === 'unauthorized') {
      c.header('WWW-Authenticate', 'Bearer realm="postern"');
      return c.json({ error: 'unauthorized' }, 401);
    }
    await next();
  };
  app.use('/metrics', guard);
  app.use('/api/*', guard);

  app.get('/metrics', async (c) => {
    const text = await d.metrics.metrics();
    return c.body(text, 200, { 'Content-Type': d.metrics.contentType });
  });

  const query = <T extends z.ZodType>(c: Context<Env>, schema: T): z.output<T> | Response => {
    const all = c.req.queries();
    const repeated = Object.keys(all).filter((k) => (all[k]?.length ?? 0) > 1);
    if (repeated.length) return c.json({ error: 'bad request', issues: repeated.map((k) => `${k}: given more than once`) }, 400);
    const r = schema.safeParse(c.req.query());
    return r.success ? r.data : c.json({ error: 'bad request', issues: describeIssues(r.error) }, 400);
  };

  app.get('/api/v1/status', async (c) => {
    const q = query(c, noQuery);
    if (q instanceof Response) return q;
    const s = await d.status.get();
    const sum = (k: 'messages' | 'recipients') => s.queue.states.reduce((n, x) => n + x[k], 0);
    return c.json({
      node: d.node,
      version: d.version,
      uptimeSeconds: Math.round(process.uptime()),
      listeners: d.listeners(),
      queue: { messages: sum('messages'), recipients: sum('recipients'), states: s.queue.states, oldestAgeSeconds: s.queueOldestAgeSeconds },
      lastScrubAgeSeconds: s.lastScrubAgeSeconds,
      lastVerifiedBackupAgeSeconds: s.lastVerifiedBackupAgeSeconds,
      maintenanceActive: s.maintenanceActive,
      damagedBlobs: s.damagedBlobs,
      at: new Date(s.at).toISOString(),
    });
  });

  app.get('/api/v1/events', async (c) => {
    const q = query(c, eventsQuery(d.clock.now()));
    if (q instanceof Response) return q;
    const events = await d.events.list(q.kind, q.limit, q.since);
    return c.json({ since: new Date(q.since).toISOString(), limit: q.limit, count: events.length, events: events.map((e) => ({ ...e, at: new Date(e.at).toISOString() })) });
  });

  app.get('/api/v1/event-kinds', (c) => {
    const q = query(c, noQuery);
    if (q instanceof Response) return q;
    return c.json({ kinds: EVENT_KINDS });
  });

  app.get('/api/v1/delivery-times', async (c) => {
    const now = d.clock.now();
    const q = query(c, deliveryTimesQuery(now));
    if (q instanceof Response) return q;
    const rows = await d.deliveryTimes.summary({ since: q.since, until: now + 1 });
    return c.json({ since: new Date(q.since).toISOString(), until: new Date(now).toISOString(), directions: rows });
  });

  if (d.console) app.route('/', createConsoleApp({ ...d.console, listeners: d.listeners }).app);
  if (d.public) app.route('/', createPublicApp({ ...d.public, listeners: d.listeners, log: d.log }));

  app.notFound((c) => c.json({ error: 'not found' }, 404));
  app.onError((err, c) => {
    d.log.warn({ err, path: c.req.path }, 'admin request failed');
    return c.json({ error: 'internal error' }, 500);
  });
  return app;
}
