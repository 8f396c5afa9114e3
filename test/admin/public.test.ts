/**
 * The public routes of the admin listener in a real postern process, fetched
 * by curl over TLS with the names mail clients and sending MTAs use
 * (--resolve to 127.0.0.1): the MTA-STS policy read back by postern's own
 * outbound parser and matching the id `postern init` prints, Thunderbird's
 * and Outlook's configuration parsed by Python's ElementTree and followed by
 * imaplib, poplib and smtplib logins, and the CA certificate and CRL checked
 * by openssl.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import path from 'node:path';
import { parseStsPolicy, parseStsTxt } from '../../src/policy/tls/mta-sts/parse.js';
import { mtaStsPolicyId } from '../../src/crypto/mta-sts-policy.js';
import { cli, MAIN, makeInstallation, startServer, type Installation, type ServerProcess } from '../process/postern-process.js';
import { killAll, run } from '../support/procs.js';
import { curl, type CurlResult } from './helpers.js';

const USER = 'alice@example.test';
const PASSWORD = 'a long enough password';
const HOST = 'mail.example.test';

let inst: Installation;
let server: ServerProcess;
let work: string;
const port = () => inst.ports.admin!;
const caFile = () => path.join(inst.dir, 'tls', 'cert.pem');
const get = (name: string, p: string, args: string[] = []): Promise<CurlResult> =>
  curl(`https://${name}:${port()}${p}`, { ca: caFile(), resolve: `${name}:${port()}:127.0.0.1`, args });

/** Body bytes and headers of one request, for binary answers. */
async function getBytes(name: string, p: string): Promise<{ status: number; type: string; cache: string; body: Buffer }> {
  const out = path.join(work, 'body.bin');
  rmSync(out, { force: true });
  const r = await run('curl', ['-sS', '--max-time', '20', '--cacert', caFile(), '--resolve', `${name}:${port()}:127.0.0.1`, '-o', out, '-w', '%{http_code} %{content_type}|', '-D', path.join(work, 'head.txt'), `https://${name}:${port()}${p}`], { timeoutMs: 30_000 });
  const [status = '0', type = ''] = r.stdout.replace(/\|$/, '').split(' ');
  const cache = /^cache-control:\s*(.*?)\r?$/im.exec(readFileSync(path.join(work, 'head.txt'), 'latin1'))?.[1] ?? '';
  return { status: Number(status), type, cache, body: readFileSync(out) };
}

const PARSE_XML = String.raw`
import json, sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.buffer.read())
def name(e): return e.tag.split('}')[-1]
def walk(e): return {'tag': name(e), 'attrs': dict(e.attrib), 'text': (e.text or '').strip(), 'children': [walk(c) for c in e]}
print(json.dumps(walk(root)))
`;
interface Node {
  tag: string;
  attrs: Record<string, string>;
  text: string;
  children: Node[];
}
/** The document as Python's ElementTree reads it; throws when it is not well-formed XML. */
async function parseXml(text: string): Promise<Node> {
  const r = await run('/usr/bin/python3', ['-c', PARSE_XML], { input: text, timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`ElementTree refused the document: ${r.stderr.slice(0, 1000)}`);
  return JSON.parse(r.stdout) as Node;
}
const child = (n: Node, tag: string) => n.children.find((c) => c.tag === tag);
const text = (n: Node, tag: string) => child(n, tag)?.text;

/** A client of the advertised host and port, with that host name mapped to 127.0.0.1 and the test CA trusted. */
const LOGIN = String.raw`
import socket, ssl, sys
proto, host, port, sock, cafile, user, pw = sys.argv[1:]
real = socket.getaddrinfo
socket.getaddrinfo = lambda h, *a, **k: real('127.0.0.1' if h == host else h, *a, **k)
ctx = ssl.create_default_context(cafile=cafile)
port = int(port)
if proto == 'imap':
    import imaplib
    assert sock == 'SSL'
    m = imaplib.IMAP4_SSL(host, port, ssl_context=ctx, timeout=20)
    print(m.login(user, pw)[0], m.select('INBOX')[0]); m.logout()
elif proto == 'pop3':
    import poplib
    assert sock == 'SSL'
    m = poplib.POP3_SSL(host, port, context=ctx, timeout=20)
    m.user(user); print(m.pass_(pw).decode().split()[0], m.stat()[0]); m.quit()
else:
    import smtplib
    if sock == 'SSL':
        m = smtplib.SMTP_SSL(host, port, context=ctx, timeout=20)
    else:
        m = smtplib.SMTP(host, port, timeout=20); m.starttls(context=ctx)
    print(m.login(user, pw)[0]); m.quit()
`;
async function login(proto: string, host: string, p: number, socket: string) {
  return run('/usr/bin/python3', ['-c', LOGIN, proto, host, String(p), socket, caFile(), USER, PASSWORD], { timeoutMs: 60_000 });
}

/** A CA in pki/ (key kept elsewhere), a leaf it signed, and an openssl ca setup that writes CRLs. */
function makePki(dir: string) {
  const pki = path.join(dir, 'pki');
  const ca = path.join(work, 'ca');
  mkdirSync(pki, { recursive: true });
  mkdirSync(ca, { recursive: true });
  const ossl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe', timeout: 30_000 });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  ossl('req', '-x509', ...ec, '-keyout', path.join(ca, 'ca.key'), '-out', path.join(pki, 'ca.pem'), '-days', '2', '-subj', '/CN=postern test organisation CA', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  ossl('req', ...ec, '-keyout', path.join(ca, 'leaf.key'), '-out', path.join(ca, 'leaf.csr'), '-subj', '/CN=bob');
  ossl('x509', '-req', '-in', path.join(ca, 'leaf.csr'), '-CA', path.join(pki, 'ca.pem'), '-CAkey', path.join(ca, 'ca.key'), '-set_serial', '0x5eed', '-out', path.join(ca, 'leaf.pem'), '-days', '2');
  writeFileSync(path.join(ca, 'index.txt'), '');
  writeFileSync(path.join(ca, 'crlnumber'), '01\n');
  const cnf = path.join(ca, 'ca.cnf');
  writeFileSync(cnf, `[ca]\ndefault_ca = d\n[d]\ndatabase = ${ca}/index.txt\ncrlnumber = ${ca}/crlnumber\ndefault_md = sha256\ndefault_crl_days = 7\n`);
  const base = ['-config', cnf, '-keyfile', path.join(ca, 'ca.key'), '-cert', path.join(pki, 'ca.pem')];
  return {
    crl: path.join(pki, 'crl.pem'),
    caPem: path.join(pki, 'ca.pem'),
    gencrl: () => ossl('ca', ...base, '-gencrl', '-out', path.join(pki, 'crl.pem')),
    revokeLeaf: () => ossl('ca', ...base, '-revoke', path.join(ca, 'leaf.pem')),
  };
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'postern-public-e2e-'));
  inst = await makeInstallation('example.test', '', { imap: true, pop3: true });
  expect(cli(inst, ['user', 'add', USER], `${PASSWORD}\n`).status).toBe(0);
  server = await startServer(inst);
});
afterEach(() => killAll());
afterAll(async () => {
  await server?.kill('SIGTERM');
  inst?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('public HTTPS routes', () => {
  it('serves the MTA-STS policy as mta-sts.<domain>, read back by postern and matching the id init prints', async () => {
    const r = await get('mta-sts.example.test', '/.well-known/mta-sts.txt');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(r.headers['cache-control']).toBe('public, max-age=300');
    expect(r.headers['strict-transport-security']).toBe('max-age=31536000');
    expect(r.body).toBe(`version: STSv1\r\nmode: testing\r\nmx: ${HOST}\r\nmax_age: 604800\r\n`);
    const parsed = parseStsPolicy(r.body);
    expect(parsed.ok && parsed.policy).toMatchObject({ mode: 'testing', mx: [HOST], maxAge: 604800 });

    // The same configuration as `postern init` writes: the TXT record it prints names this very policy.
    const dir = path.join(work, 'init');
    const init = spawnSync(process.execPath, [MAIN, 'init', '--domain', 'example.test', '--dir', dir, '--hostname', HOST], { encoding: 'utf8', timeout: 60_000 });
    expect(init.status).toBe(0);
    const txt = /^_mta-sts\.example\.test\.\t\d+\tIN\tTXT\t"([^"]+)"$/m.exec(init.stdout)?.[1] ?? '';
    expect(parseStsTxt([txt])).toEqual({ id: mtaStsPolicyId(r.body) });

    for (const name of [HOST, 'mta-sts.other.test', 'example.test']) {
      const other = await get(name, '/.well-known/mta-sts.txt', ['-k']);
      expect(other.status).toBe(404);
      expect(other.headers['cache-control']).toBe('no-store');
    }
  });

  it('gives Thunderbird a well-formed config-v1.1.xml with TLS ports only, and a client that follows it logs in', async () => {
    for (const [name, p] of [
      ['autoconfig.example.test', '/mail/config-v1.1.xml?emailaddress=alice%40example.test'],
      ['autoconfig.example.test', '/mail/config-v1.1.xml'],
      ['mta-sts.example.test', '/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice%40example.test'],
    ] as const) {
      const r = await get(name, p);
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('application/xml; charset=utf-8');
      const root = await parseXml(r.body);
      expect(root).toMatchObject({ tag: 'clientConfig', attrs: { version: '1.1' } });
      const provider = child(root, 'emailProvider')!;
      expect(provider.attrs.id).toBe('example.test');
      expect(text(provider, 'domain')).toBe('example.test');
      expect(text(provider, 'displayName')).toBeTruthy();
      const servers = provider.children.filter((c) => c.tag === 'incomingServer' || c.tag === 'outgoingServer');
      const summary = servers.map((s) => [s.tag, s.attrs.type, Number(text(s, 'port')), text(s, 'socketType')]);
      expect(summary).toEqual([
        ['incomingServer', 'imap', inst.ports.imaps, 'SSL'],
        ['incomingServer', 'pop3', expect.any(Number), 'SSL'],
        ['outgoingServer', 'smtp', inst.ports.submissions, 'SSL'],
        ['outgoingServer', 'smtp', inst.ports.submission, 'STARTTLS'],
      ]);
      for (const s of servers) {
        expect(text(s, 'hostname')).toBe(HOST);
        expect(text(s, 'username')).toBe('%EMAILADDRESS%');
        expect(text(s, 'authentication')).toBe('password-cleartext');
        expect(['SSL', 'STARTTLS']).toContain(text(s, 'socketType'));
        expect([inst.ports.imap, inst.ports.pop3, inst.ports.mx]).not.toContain(Number(text(s, 'port')));
      }
    }

    const root = await parseXml((await get('autoconfig.example.test', '/mail/config-v1.1.xml')).body);
    for (const s of child(root, 'emailProvider')!.children.filter((c) => c.attrs.type)) {
      const r = await login(s.attrs.type!, text(s, 'hostname')!, Number(text(s, 'port')), text(s, 'socketType')!);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^(OK OK|\+OK 0|235)\s*$/);
    }
    // The password is checked: a client that follows the file with a wrong one does not get in.
    const wrong = await run('/usr/bin/python3', ['-c', LOGIN, 'imap', HOST, String(inst.ports.imaps), 'SSL', caFile(), USER, 'not the password'], { timeoutMs: 60_000 });
    expect(wrong.code).not.toBe(0);
  });

  it('refuses autoconfiguration for other domains and bad addresses', async () => {
    expect((await get('autoconfig.example.test', '/mail/config-v1.1.xml?emailaddress=bob%40other.test')).status).toBe(404);
    const bad = await get('autoconfig.example.test', '/mail/config-v1.1.xml?emailaddress=%3Cscript%3E');
    expect(bad.status).toBe(400);
    expect(bad.body).toBe('{"error":"emailaddress: not a valid address"}');
  });

  it('answers the Outlook autodiscover POST with IMAP, POP3 and SMTP over TLS, and refuses DTDs, GET and big bodies', async () => {
    const ns = 'http://schemas.microsoft.com/exchange/autodiscover/outlook';
    const req = `<?xml version="1.0" encoding="utf-8"?>\n<Autodiscover xmlns="${ns}/requestschema/2006"><Request><EMailAddress>Alice@example.test</EMailAddress><AcceptableResponseSchema>${ns}/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`;
    const post = (body: string, p = '/autodiscover/autodiscover.xml') => get('autodiscover.example.test', p, ['-k', '-H', 'Content-Type: text/xml', '--data-binary', body]);
    const r = await post(req, '/Autodiscover/Autodiscover.xml');
    expect(r.status).toBe(200);
    const root = await parseXml(r.body);
    expect(root.tag).toBe('Autodiscover');
    const account = child(child(root, 'Response')!, 'Account')!;
    expect(text(account, 'Action')).toBe('settings');
    const protocols = account.children.filter((c) => c.tag === 'Protocol').map((p) => [text(p, 'Type'), text(p, 'Server'), Number(text(p, 'Port')), text(p, 'SSL'), text(p, 'Encryption'), text(p, 'LoginName')]);
    expect(protocols).toEqual([
      ['IMAP', HOST, inst.ports.imaps, 'on', 'SSL', USER],
      ['POP3', HOST, expect.any(Number), 'on', 'SSL', USER],
      ['SMTP', HOST, inst.ports.submissions, 'on', 'SSL', USER],
      ['SMTP', HOST, inst.ports.submission, 'on', 'TLS', USER],
    ]);

    const doctype = await post(`<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>${req.replace('Alice@example.test', '&x;')}`);
    expect(doctype.status).toBe(400);
    expect(doctype.body).toContain('DOCTYPE and ENTITY declarations are not accepted');
    expect(doctype.body).not.toContain('root:');
    expect((await post(req.replace('Alice@example.test', 'bob@other.test'))).status).toBe(404);
    expect((await post('')).status).toBe(400);
    expect((await post(`${req}<!--${'x'.repeat(17 * 1024)}-->`)).status).toBe(413);
    const g = await get('autodiscover.example.test', '/autodiscover/autodiscover.xml', ['-k']);
    expect(g.status).toBe(405);
    expect(g.headers.allow).toBe('POST');
  });

  it('answers 408 and closes when the autodiscover body does not arrive', async () => {
    // Headers promise 200 bytes; 10 arrive and then nothing. Our own give-up (45 s) only bounds the test.
    const reply = await new Promise<{ data: string; closedByPeer: boolean }>((resolve) => {
      let data = '';
      let gaveUp = false;
      const s = tlsConnect({ host: '127.0.0.1', port: port(), servername: 'autodiscover.example.test', ca: readFileSync(caFile()), rejectUnauthorized: false }, () => {
        s.write('POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: autodiscover.example.test\r\nContent-Type: text/xml\r\nContent-Length: 200\r\n\r\n<?xml ver');
      });
      const timer = setTimeout(() => {
        gaveUp = true;
        s.destroy();
      }, 45_000);
      s.on('data', (b: Buffer) => (data += b.toString('latin1')));
      s.on('error', () => undefined);
      s.on('close', () => {
        clearTimeout(timer);
        resolve({ data, closedByPeer: !gaveUp });
      });
    });
    expect(reply.closedByPeer).toBe(true);
    expect(reply.data).toMatch(/^HTTP\/1\.1 408 /);
    expect(reply.data).toContain('request body not received within 10 s');
  });

  it('publishes the CA certificate and CRL of pki/, re-read when they change, 404 while absent', async () => {
    for (const p of ['/pki/ca.pem', '/pki/ca.crt', '/pki/crl.pem', '/pki/crl.crl']) expect((await get(HOST, p)).status).toBe(404);
    const pki = makePki(inst.dir);
    pki.gencrl();

    const pem = await get(HOST, '/pki/ca.pem');
    expect(pem.status).toBe(200);
    expect(pem.headers['content-type']).toBe('application/x-pem-file');
    expect(pem.headers['cache-control']).toBe('public, max-age=3600');
    expect(pem.body).toBe(readFileSync(pki.caPem, 'utf8'));
    const der = await getBytes(HOST, '/pki/ca.crt');
    expect([der.status, der.type]).toEqual([200, 'application/pkix-cert']);
    const caOut = path.join(work, 'ca.crt');
    writeFileSync(caOut, der.body);
    expect(execFileSync('openssl', ['x509', '-inform', 'DER', '-in', caOut, '-noout', '-subject'], { encoding: 'utf8' })).toMatch(/postern test organisation CA/);

    // openssl wants the CA as PEM: the one served.
    const caPemOut = path.join(work, 'ca-served.pem');
    writeFileSync(caPemOut, pem.body);
    const crl = await getBytes(HOST, '/pki/crl.crl');
    expect([crl.status, crl.type, crl.cache]).toEqual([200, 'application/pkix-crl', 'no-store']);
    const crlOut = path.join(work, 'crl.crl');
    writeFileSync(crlOut, crl.body);
    const verify = spawnSync('openssl', ['crl', '-inform', 'DER', '-in', crlOut, '-verify', '-CAfile', caPemOut, '-noout', '-text'], { encoding: 'utf8', timeout: 30_000 });
    expect(verify.status, verify.stderr).toBe(0);
    expect(`${verify.stdout}${verify.stderr}`).toMatch(/verify OK/);
    expect(verify.stdout).toMatch(/No Revoked Certificates/);
    expect((await get(HOST, '/pki/crl.pem')).body).toBe(readFileSync(pki.crl, 'utf8'));

    // A new CRL (a revocation) is served at once: the file's mtime changed.
    pki.revokeLeaf();
    pki.gencrl();
    const later = new Date(Date.now() + 5000);
    utimesSync(pki.crl, later, later);
    writeFileSync(crlOut, (await getBytes(HOST, '/pki/crl.crl')).body);
    const second = execFileSync('openssl', ['crl', '-inform', 'DER', '-in', crlOut, '-verify', '-CAfile', caPemOut, '-noout', '-text'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(second).toMatch(/Serial Number: 5EED/i);

    // A file that is not a CRL is not published as one.
    writeFileSync(pki.crl, 'not a CRL\n');
    const never = new Date(Date.now() + 10_000);
    utimesSync(pki.crl, never, never);
    expect((await get(HOST, '/pki/crl.crl')).status).toBe(404);
  });

  it('keeps /metrics and /api/v1 closed without a token, with the security headers on public answers', async () => {
    for (const p of ['/metrics', '/api/v1/status']) expect((await get(HOST, p)).status).toBe(403);
    const r = await get('autoconfig.example.test', '/mail/config-v1.1.xml');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['content-security-policy']).toMatch(/^default-src 'none'/);
    expect(r.headers['cache-control']).toBe('no-store');
  });
});
