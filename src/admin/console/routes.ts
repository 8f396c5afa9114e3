/**
 * The console under /console on the admin listener: the session of the
 * cookie, the checks every POST passes (same Origin, the session's CSRF
 * token in the body, compared in constant time), the static script and
 * stylesheet, then the login steps (auth.ts) and the pages (pages*.ts).
 */
import { Hono } from 'hono';
import { mountAuth } from './auth.js';
import { htmlError, type ConsoleDeps, type ConsoleEnv, type Ctx, sessionOf } from './context.js';
import { CSS } from './html.js';
import { homeOf } from './nav.js';
import { mountPages } from './pages.js';
import { mountSecurityPages } from './pages-security.js';
import { mountSelfPages } from './pages-self.js';
import { mountDirectoryPages } from './pages-directory.js';
import { mountMaintenancePages } from './pages-maintenance.js';
import { mountQueuePages } from './pages-queue.js';
import { CONSOLE_JS } from './script.js';
import { csrfMatches, SessionStore } from './sessions.js';

/** The console's pages may load their own script and stylesheet and post to themselves; nothing else. */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export const isConsolePath = (p: string): boolean => p === '/console' || p.startsWith('/console/');

async function readBody(c: Ctx): Promise<Record<string, unknown> | null> {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  try {
    if (type === 'application/json') {
      const j: unknown = await c.req.json();
      return j && typeof j === 'object' && !Array.isArray(j) ? (j as Record<string, unknown>) : null;
    }
    if (type === 'application/x-www-form-urlencoded' || type === 'multipart/form-data') {
      const b = await c.req.parseBody({ all: false });
      return Object.fromEntries(Object.entries(b).filter(([, v]) => typeof v === 'string'));
    }
  } catch {
    return null;
  }
  return null;
}

export function createConsoleApp(d: ConsoleDeps): { app: Hono<ConsoleEnv>; sessions: SessionStore } {
  const sessions = new SessionStore(() => d.clock.now());
  const app = new Hono<ConsoleEnv>();

  // Only the console's own paths: this app is mounted at the root beside the public routes.
  const checks = async (c: Ctx, next: () => Promise<void>) => {
    c.set('session', sessionOf(c, sessions));
    c.set('form', {});
    if (c.req.method === 'POST') {
      // A form posted from another site carries its Origin; a request without one is not from our pages either.
      const origin = c.req.header('origin');
      if (!origin || !d.origins().includes(origin)) return htmlError(c, 403, 'Refused', 'cross-origin request refused (Origin missing or not this console)');
      const body = await readBody(c);
      if (!body) return htmlError(c, 400, 'Bad request', 'the body must be a form or a JSON object');
      const s = c.get('session');
      if (!s) return htmlError(c, 403, 'Refused', 'no session: open the login page again');
      if (!csrfMatches(s, body.csrf)) return htmlError(c, 403, 'Refused', 'missing or wrong CSRF token');
      c.set('form', body);
    }
    await next();
  };
  app.use('/console', checks);
  app.use('/console/*', checks);

  app.get('/console/static/console.js', (c) => c.body(CONSOLE_JS, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }));
  app.get('/console/static/console.css', (c) => c.body(CSS, 200, { 'Content-Type': 'text/css; charset=utf-8' }));
  const home = (c: Ctx) => {
    const s = c.get('session');
    return c.redirect(s?.stage === 'full' ? homeOf(s) : '/console/login', 303);
  };
  app.get('/console', home);
  app.get('/console/', home);

  mountAuth(app, d, sessions);
  mountPages(app, d);
  mountSelfPages(app, d, sessions);
  mountSecurityPages(app, d);
  mountQueuePages(app, d);
  mountMaintenancePages(app, d);
  mountDirectoryPages(app, d, sessions);
  return { app, sessions };
}
