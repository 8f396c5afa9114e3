/**
 * The optional plain-HTTP listener: every request gets 301 to the same path
 * on the HTTPS port and no content. The request body is never read. The host
 * in Location is the request's Host when it is a plain host name or address,
 * else the configured server name.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { ADMIN_LIMITS, applyHttpLimits } from './limits.js';

const HOST = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

export function redirectLocation(req: Pick<IncomingMessage, 'url' | 'headers'>, fallbackHost: string, httpsPort: number): string {
  let host = fallbackHost;
  const h = req.headers.host;
  if (typeof h === 'string') {
    const name = h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.replace(/:\d{1,5}$/, '');
    if (HOST.test(name) || (name.startsWith('[') && isIP(name.slice(1, -1)) === 6)) host = name;
  }
  let path = '/';
  try {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname.length + u.search.length <= 2048) path = u.pathname + u.search;
  } catch {
    // A request line that is no URL goes to the root.
  }
  return `https://${host}${httpsPort === 443 ? '' : `:${httpsPort}`}${path}`;
}

export function createRedirectServer(fallbackHost: string, httpsPort: () => number): Server {
  const server = createServer({ maxHeaderSize: ADMIN_LIMITS.maxHeaderBytes, connectionsCheckingInterval: ADMIN_LIMITS.checkIntervalMs }, (req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(301, {
      Location: redirectLocation(req, fallbackHost, httpsPort()),
      'Content-Length': '0',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      Connection: 'close',
    });
    res.end();
  });
  applyHttpLimits(server);
  return server;
}
