/**
 * Fetches an MTA-STS policy over HTTPS (RFC 8461 3.3): the certificate must
 * be valid for mta-sts.<domain> under the Web PKI, no redirects, 200 only,
 * bounded size and time. Host addresses come from the injected resolver, so a
 * test can serve the policy from 127.0.0.1 with its own CA.
 */
import { request } from 'node:https';
import { rootCertificates } from 'node:tls';
import { isIP, type LookupFunction } from 'node:net';
import type { DnsResolver } from '../../../net/dns/types.js';
import type { TlsResultType } from '../types.js';

export type StsFetchResult = { ok: true; body: string } | { ok: false; resultType: TlsResultType; reason: string };
export type StsFetcher = (domain: string) => Promise<StsFetchResult>;

export interface HttpsStsFetcherOptions {
  resolver: DnsResolver;
  /** 443 in production; tests use a high port. */
  port?: number;
  /** Extra trust anchors (PEM) added to Node's root store. */
  extraCa?: readonly string[];
  timeoutMs?: number;
  maxBytes?: number;
}

const CERT_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS_CERT_ALTNAME|HOSTNAME|ISSUER/;

export function httpsStsFetcher(opts: HttpsStsFetcherOptions): StsFetcher {
  const ca = opts.extraCa?.length ? [...rootCertificates, ...opts.extraCa] : undefined;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const maxBytes = opts.maxBytes ?? 64 * 1024;
  const lookup = resolverLookup(opts.resolver);
  return (domain) =>
    new Promise<StsFetchResult>((resolve) => {
      const host = `mta-sts.${domain}`;
      let settled = false;
      const finish = (r: StsFetchResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        resolve(r);
      };
      const timer = setTimeout(() => finish({ ok: false, resultType: 'sts-policy-fetch-error', reason: `timeout after ${timeoutMs} ms` }), timeoutMs);
      const req = request(
        {
          host,
          port: opts.port ?? 443,
          path: '/.well-known/mta-sts.txt',
          method: 'GET',
          lookup,
          servername: host,
          ca,
          rejectUnauthorized: true,
          agent: false,
          headers: { 'user-agent': 'postern' },
        },
        (res) => {
          if (res.statusCode !== 200) {
            return finish({ ok: false, resultType: 'sts-policy-fetch-error', reason: `HTTP ${res.statusCode ?? '?'} (redirects are not followed)` });
          }
          const type = String(res.headers['content-type'] ?? '');
          if (!/^text\/plain\b/i.test(type)) return finish({ ok: false, resultType: 'sts-policy-invalid', reason: `content-type ${type || 'missing'}` });
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (d: Buffer) => {
            size += d.length;
            if (size > maxBytes) return finish({ ok: false, resultType: 'sts-policy-fetch-error', reason: `policy larger than ${maxBytes} bytes` });
            chunks.push(d);
          });
          res.on('end', () => finish({ ok: true, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', (e) => finish({ ok: false, resultType: 'sts-policy-fetch-error', reason: e.message }));
        },
      );
      req.on('error', (e: NodeJS.ErrnoException) => {
        const code = e.code ?? '';
        const webpki = CERT_ERRORS.test(code) || CERT_ERRORS.test(e.message);
        finish({ ok: false, resultType: webpki ? 'sts-webpki-invalid' : 'sts-policy-fetch-error', reason: `${code} ${e.message}`.trim() });
      });
      req.end();
    });
}

/** A net.LookupFunction answering from the injected resolver (IPv4 first). */
export function resolverLookup(resolver: DnsResolver): LookupFunction {
  return ((hostname: string, options: { all?: boolean }, cb: (err: Error | null, address: unknown, family?: number) => void) => {
    const literal = isIP(hostname);
    const found: Promise<{ address: string; family: number }[]> = literal
      ? Promise.resolve([{ address: hostname, family: literal }])
      : Promise.all([resolver.a(hostname), resolver.aaaa(hostname)]).then(([a, aaaa]) => [
          ...(a.status === 'ok' ? a.records.map((address) => ({ address, family: 4 })) : []),
          ...(aaaa.status === 'ok' ? aaaa.records.map((address) => ({ address, family: 6 })) : []),
        ]);
    found.then(
      (list) => {
        if (list.length === 0) {
          const err = Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' });
          return cb(err, options?.all ? [] : '', 4);
        }
        if (options?.all) cb(null, list);
        else cb(null, list[0]!.address, list[0]!.family);
      },
      (e: unknown) => cb(e instanceof Error ? e : new Error(String(e)), options?.all ? [] : '', 4),
    );
  }) as unknown as LookupFunction;
}
