import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseStsPolicy } from '../../policy/tls/mta-sts/parse.js';
import { mtaStsPolicyText } from '../../crypto/mta-sts-policy.js';
import { autodiscoverResponse, parseAutodiscoverRequest, REQUEST_NS, RESPONSE_NS } from './autodiscover.js';
import { thunderbirdConfig } from './autoconfig.js';
import { clientEndpoints } from './endpoints.js';
import { domainBelow, requestHost } from './host.js';
import { PKI_MAX_BYTES, PkiFile, firstPemBlock } from './pki.js';
import { createPublicApp } from './routes.js';
import { createLogger } from '../../metrics/logger.js';

const LISTENERS = [
  { name: 'smtp mx', address: '0.0.0.0', port: 25, tls: 'starttls' },
  { name: 'smtp submission', address: '0.0.0.0', port: 587, tls: 'starttls' },
  { name: 'smtp submissions', address: '0.0.0.0', port: 465, tls: 'implicit' },
  { name: 'pop3', address: '0.0.0.0', port: 110, tls: 'starttls' },
  { name: 'pop3s', address: '0.0.0.0', port: 995, tls: 'implicit' },
  { name: 'imap', address: '0.0.0.0', port: 143, tls: 'starttls' },
  { name: 'imaps', address: '0.0.0.0', port: 993, tls: 'implicit' },
  { name: 'https admin', address: '0.0.0.0', port: 443, tls: 'implicit' },
];

const request = (addr: string, extra = '') =>
  `<?xml version="1.0" encoding="utf-8"?>\n<Autodiscover xmlns="${REQUEST_NS}"><Request><EMailAddress>${addr}</EMailAddress>${extra}<AcceptableResponseSchema>${RESPONSE_NS}</AcceptableResponseSchema></Request></Autodiscover>`;

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'postern-public-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('host names', () => {
  it('takes the name from Host, without port or trailing dot, and refuses IP literals and junk', () => {
    expect(requestHost('MTA-STS.Example.org:8443')).toBe('mta-sts.example.org');
    expect(requestHost('mta-sts.example.org.')).toBe('mta-sts.example.org');
    for (const bad of [undefined, '', '127.0.0.1', '127.0.0.1:443', '[::1]:443', 'a b.example.org', 'example.org/x', 'x'.repeat(300), 'localhost'])
      expect(requestHost(bad)).toBeNull();
    expect(domainBelow('mta-sts.example.org', 'mta-sts')).toBe('example.org');
    expect(domainBelow('mta-sts.org', 'mta-sts')).toBeNull();
    expect(domainBelow('xmta-sts.example.org', 'mta-sts')).toBeNull();
  });
});

describe('client endpoints', () => {
  it('lists only TLS services, implicit TLS first, never plain IMAP or POP3 or port 25', () => {
    expect(clientEndpoints(LISTENERS)).toEqual([
      { protocol: 'imap', port: 993, socket: 'SSL' },
      { protocol: 'pop3', port: 995, socket: 'SSL' },
      { protocol: 'smtp', port: 465, socket: 'SSL' },
      { protocol: 'smtp', port: 587, socket: 'STARTTLS' },
    ]);
    expect(clientEndpoints(LISTENERS.filter((l) => l.name !== 'imaps' && l.name !== 'pop3s'))).toEqual([
      { protocol: 'smtp', port: 465, socket: 'SSL' },
      { protocol: 'smtp', port: 587, socket: 'STARTTLS' },
    ]);
    // A listener whose TLS mode contradicts its name is left out rather than advertised wrongly.
    expect(clientEndpoints([{ name: 'imaps', address: '::', port: 993, tls: 'starttls' }])).toEqual([]);
  });

  it('writes Thunderbird and Outlook files that escape what they echo', () => {
    const tb = thunderbirdConfig('ex<&>.org', 'mail.example.org', clientEndpoints(LISTENERS));
    expect(tb).toContain('<emailProvider id="ex&lt;&amp;&gt;.org">');
    expect(tb).toContain('<incomingServer type="imap">');
    expect(tb).not.toMatch(/<port>(143|110|25)<\/port>/);
    const ad = autodiscoverResponse('a"b@example.org', 'mail.example.org', clientEndpoints(LISTENERS));
    expect(ad).toContain('<LoginName>a&quot;b@example.org</LoginName>');
    expect(ad.match(/<Protocol>/g)).toHaveLength(4);
  });
});

describe('autodiscover requests', () => {
  it('reads the one address, normalized', () => {
    expect(parseAutodiscoverRequest(request('Alice@Example.ORG'))).toEqual({ address: 'alice@example.org' });
    expect(parseAutodiscoverRequest(`<a:Autodiscover xmlns:a="${REQUEST_NS}"><a:Request><a:EMailAddress> bob@example.org </a:EMailAddress></a:Request></a:Autodiscover>`)).toEqual({ address: 'bob@example.org' });
  });

  it('refuses DTDs and entities, two addresses, bad addresses, other schemas and broken XML, saying why', () => {
    const cases: [string, RegExp][] = [
      [`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>${request('&e;')}`, /DOCTYPE and ENTITY/],
      [request('a@example.org').replace('<Request>', '<!ENTITY x "y"><Request>'), /DOCTYPE and ENTITY/],
      [request('a@example.org', '<EMailAddress>b@example.org</EMailAddress>'), /exactly one <EMailAddress>/],
      [request('not an address'), /not a valid address/],
      [request('a@example.org').replace(RESPONSE_NS, 'http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006'), /only the response schema/],
      ['<Autodiscover><Request><EMailAddress>a@example.org</Request></Autodiscover>', /not well-formed XML/],
      ['<Other/>', /expected <Autodiscover><Request>/],
      ['', /empty request body/],
      [`<Autodiscover><Request>${'<x/>'.repeat(100)}</Request></Autodiscover>`, /more than 64 elements/],
    ];
    for (const [xml, reason] of cases) {
      const r = parseAutodiscoverRequest(xml);
      expect('error' in r && r.error, xml.slice(0, 60)).toMatch(reason);
    }
  });
});

describe('PKI files', () => {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe', timeout: 30_000 });

  it('serves PEM and DER, re-reads a changed file, and refuses absent, oversized or wrong files', async () => {
    const dir = tempDir();
    const f = path.join(dir, 'ca.pem');
    const problems: string[] = [];
    const file = new PkiFile(f, 'cert', (_f, p) => problems.push(p));
    expect(await file.read()).toBeNull();
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'k1'), '-out', f, '-days', '2', '-subj', '/CN=first');
    const first = await file.read();
    expect(first?.pem).toBe(readFileSync(f, 'utf8'));
    expect(execFileSync('openssl', ['x509', '-inform', 'DER', '-noout', '-subject'], { input: first!.der }).toString()).toMatch(/CN ?= ?first/);

    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'k2'), '-out', f, '-days', '2', '-subj', '/CN=second');
    const later = new Date(Date.now() + 60_000);
    utimesSync(f, later, later);
    expect(execFileSync('openssl', ['x509', '-inform', 'DER', '-noout', '-subject'], { input: (await file.read())!.der }).toString()).toMatch(/CN ?= ?second/);

    writeFileSync(f, 'x'.repeat(PKI_MAX_BYTES.cert + 1));
    expect(await file.read()).toBeNull();
    writeFileSync(f, '-----BEGIN CERTIFICATE-----\nMIIBAAAAAAAAAAAAAAAAAAAAAAAA\n-----END CERTIFICATE-----\n');
    expect(await file.read()).toBeNull();
    expect(problems).toEqual([expect.stringMatching(/more than the 65536 published/), 'the certificate does not parse']);
    expect(firstPemBlock('-----BEGIN X509 CRL-----\n!!!\n-----END X509 CRL-----', 'X509 CRL')).toBeNull();
  });
});

describe('public routes', () => {
  const app = (over: Partial<Parameters<typeof createPublicApp>[0]> = {}) =>
    createPublicApp({
      hostname: 'mail.example.org',
      isLocalDomain: async (d) => d === 'example.org',
      listeners: () => LISTENERS,
      mtaSts: { mode: 'enforce', mx: ['mail.example.org'], maxAge: 86400 },
      pkiDir: null,
      log: createLogger('silent'),
      ...over,
    });
  const get = (p: string, host: string) => app().request(`https://${host}${p}`, { headers: { Host: host } });

  it('serves the MTA-STS policy only as mta-sts.<local domain>, and postern reads it back', async () => {
    const r = await get('/.well-known/mta-sts.txt', 'mta-sts.example.org');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const text = await r.text();
    expect(text).toBe(mtaStsPolicyText({ mode: 'enforce', mx: ['mail.example.org'], maxAge: 86400 }));
    expect(text).toBe('version: STSv1\r\nmode: enforce\r\nmx: mail.example.org\r\nmax_age: 86400\r\n');
    const parsed = parseStsPolicy(text);
    expect(parsed.ok && parsed.policy).toMatchObject({ mode: 'enforce', mx: ['mail.example.org'], maxAge: 86400 });
    for (const host of ['example.org', 'mail.example.org', 'mta-sts.other.org', 'mta-sts.sub.example.org', '127.0.0.1']) expect((await get('/.well-known/mta-sts.txt', host)).status).toBe(404);
    expect((await app({ mtaSts: null }).request('https://mta-sts.example.org/.well-known/mta-sts.txt', { headers: { Host: 'mta-sts.example.org' } })).status).toBe(404);
  });

  it('answers autoconfiguration for local domains only, and refuses bad parameters', async () => {
    expect((await get('/mail/config-v1.1.xml', 'autoconfig.example.org')).status).toBe(200);
    expect((await get('/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=a%40example.org', 'example.org')).status).toBe(200);
    expect((await get('/mail/config-v1.1.xml?emailaddress=a%40other.org', 'autoconfig.example.org')).status).toBe(404);
    expect((await get('/mail/config-v1.1.xml', 'autoconfig.other.org')).status).toBe(404);
    const bad = [['?emailaddress=nope', /not a valid address/], ['?emailaddress=a%40example.org&emailaddress=b%40example.org', /more than once/], ['?x=1', /unknown query parameter "x"/]] as const;
    for (const [q, msg] of bad) {
      const r = await get(`/mail/config-v1.1.xml${q}`, 'autoconfig.example.org');
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: string }).error).toMatch(msg);
    }
  });

  it('takes the autodiscover POST and refuses other methods and content types', async () => {
    const post = (body: string, type = 'text/xml') => app().request('https://autodiscover.example.org/autodiscover/autodiscover.xml', { method: 'POST', body, headers: { 'Content-Type': type } });
    const ok = await post(request('a@example.org'));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('<LoginName>a@example.org</LoginName>');
    expect((await post(request('a@other.org'))).status).toBe(404);
    expect((await post(request('a@example.org'), 'application/json')).status).toBe(415);
    expect((await post(`<!DOCTYPE x>${request('a@example.org')}`)).status).toBe(400);
    const g = await app().request('https://autodiscover.example.org/Autodiscover/Autodiscover.xml');
    expect(g.status).toBe(405);
    expect(g.headers.get('allow')).toBe('POST');
  });
});
