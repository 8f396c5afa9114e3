/**
 * The routes anyone may fetch, without a token: the MTA-STS policy (for Host
 * mta-sts.<local domain>), Thunderbird's autoconfiguration and Outlook's
 * autodiscover (for local domains only, pointing at TLS ports that listen),
 * and the organisation CA's certificate and CRL. The enclosing app adds the
 * security headers and the 16 KiB body cap; these routes set their own
 * Cache-Control where caching is safe.
 */
import { Hono, type Context } from 'hono';
import { normalizeAddress, normalizeDomain, domainOf } from '../../core/address.js';
import { mtaStsPolicyText, type MtaStsSettings } from '../../crypto/mta-sts-policy.js';
import type { Logger } from '../../metrics/logger.js';
import type { ListenerInfo } from '../app.js';
import { autodiscoverResponse, parseAutodiscoverRequest } from './autodiscover.js';
import { thunderbirdConfig } from './autoconfig.js';
import { clientEndpoints } from './endpoints.js';
import { domainBelow, requestHost } from './host.js';
import { pkiFiles, type PkiKind } from './pki.js';

export interface PublicDeps {
  /** server.hostname: where clients connect. */
  readonly hostname: string;
  readonly isLocalDomain: (domain: string) => Promise<boolean>;
  readonly listeners: () => readonly ListenerInfo[];
  /** null: [mta_sts] enabled = false. */
  readonly mtaSts: MtaStsSettings | null;
  /** The pki/ folder beside the configuration; null: nothing published. */
  readonly pkiDir: string | null;
  readonly log: Logger;
}

/** How long a request body may take to arrive (the whole request is also bounded by limits.ts). */
export const BODY_DEADLINE_MS = 10_000;
/** Senders re-fetch the policy when the TXT id changes; a short HTTP cache is enough. */
const MTA_STS_CACHE = 'public, max-age=300';
const CA_CACHE = 'public, max-age=3600';
const XML = 'application/xml; charset=utf-8';

const notFound = (c: Context) => c.json({ error: 'not found' }, 404);
const badRequest = (c: Context, error: string) => c.json({ error }, 400);

export function createPublicApp(d: PublicDeps): Hono {
  const app = new Hono();
  const policy = d.mtaSts ? mtaStsPolicyText(d.mtaSts) : null;
  const local = async (domain: string | null): Promise<boolean> => domain !== null && (await d.isLocalDomain(domain));

  app.get('/.well-known/mta-sts.txt', async (c) => {
    const domain = domainBelow(requestHost(c.req.header('host')), 'mta-sts');
    if (policy === null || !(await local(domain))) return notFound(c);
    return c.body(policy, 200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': MTA_STS_CACHE });
  });

  // Thunderbird asks https://autoconfig.<domain>/mail/config-v1.1.xml and https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml.
  const autoconfig = async (c: Context) => {
    const all = c.req.queries();
    const unknown = Object.keys(all).filter((k) => k !== 'emailaddress');
    if (unknown.length) return badRequest(c, `unknown query parameter ${JSON.stringify(unknown[0]!.slice(0, 40))}; only emailaddress is accepted`);
    const given = all.emailaddress ?? [];
    if (given.length > 1) return badRequest(c, 'emailaddress: given more than once');
    let domain: string | null;
    if (given.length === 1) {
      const address = normalizeAddress(given[0]!);
      if (!address) return badRequest(c, 'emailaddress: not a valid address');
      domain = domainOf(address);
    } else {
      const host = requestHost(c.req.header('host'));
      domain = domainBelow(host, 'autoconfig') ?? (host ? normalizeDomain(host) : null);
    }
    if (!(await local(domain))) return notFound(c);
    return c.body(thunderbirdConfig(domain!, d.hostname, clientEndpoints(d.listeners())), 200, { 'Content-Type': XML });
  };
  app.get('/mail/config-v1.1.xml', autoconfig);
  app.get('/.well-known/autoconfig/mail/config-v1.1.xml', autoconfig);

  const autodiscover = async (c: Context) => {
    const type = c.req.header('content-type');
    if (type !== undefined && !/^(text|application)\/xml\s*(;|$)/i.test(type)) return c.json({ error: 'expected Content-Type text/xml' }, 415);
    const body = await readBody(c, BODY_DEADLINE_MS);
    if (body === null) return c.json({ error: `request body not received within ${BODY_DEADLINE_MS / 1000} s` }, 408, { Connection: 'close' });
    const req = parseAutodiscoverRequest(body);
    if ('error' in req) return badRequest(c, req.error);
    if (!(await local(domainOf(req.address)))) return notFound(c);
    return c.body(autodiscoverResponse(req.address, d.hostname, clientEndpoints(d.listeners())), 200, { 'Content-Type': XML });
  };
  const onlyPost = (c: Context) => c.json({ error: 'POST the autodiscover request XML' }, 405, { Allow: 'POST' });
  // Outlook capitalises the path; some clients do not.
  for (const p of ['/autodiscover/autodiscover.xml', '/Autodiscover/Autodiscover.xml']) {
    app.post(p, autodiscover);
    app.on(['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH'], p, onlyPost);
  }

  const files = d.pkiDir ? pkiFiles(d.pkiDir, (file, problem) => d.log.warn({ file, problem }, 'pki file not published')) : null;
  const publish = (kind: PkiKind, form: 'pem' | 'der', type: string, cache: string) => async (c: Context) => {
    const doc = files ? await files[kind].read() : null;
    if (!doc) return notFound(c);
    return c.body(form === 'pem' ? doc.pem : new Uint8Array(doc.der), 200, { 'Content-Type': type, 'Cache-Control': cache });
  };
  app.get('/pki/ca.pem', publish('cert', 'pem', 'application/x-pem-file', CA_CACHE));
  app.get('/pki/ca.crt', publish('cert', 'der', 'application/pkix-cert', CA_CACHE));
  // A CRL is fetched for its freshness: never from a cache.
  app.get('/pki/crl.pem', publish('crl', 'pem', 'application/x-pem-file', 'no-store'));
  app.get('/pki/crl.crl', publish('crl', 'der', 'application/pkix-crl', 'no-store'));
  return app;
}

/** The body as text, or null when it did not arrive in time. Oversized bodies are cut off by the app's body limit (413). */
async function readBody(c: Context, ms: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const reading = c.req.text();
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  try {
    return await Promise.race([reading, late]);
  } finally {
    clearTimeout(timer);
    // A read that lost the race settles when the socket closes; nothing waits for it.
    reading.catch(() => undefined);
  }
}
