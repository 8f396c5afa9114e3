/**
 * The admin listener of a real postern process, driven by curl, a raw socket
 * and Python's prometheus_client parser: /metrics over HTTPS with a bearer
 * token or a client certificate, 401 otherwise; plain HTTP on the HTTPS port
 * gets no content; the redirect port answers 301 and nothing else; security
 * headers on every answer; /api/v1 and its validation.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { openStore } from '../../src/store/index.js';
import { cli, freePort, makeInstallation, startServer, type Installation, type ServerProcess } from '../process/postern-process.js';
import { killAll } from '../support/procs.js';
import { curl, makeClientCerts, parseExposition, rawExchange, type Family } from './helpers.js';

const TOKEN = randomBytes(24).toString('base64url'); // 32 characters
const RCPT = 'alice@example.test';

let inst: Installation;
let server: ServerProcess;
let redirectPort: number;
let certs: ReturnType<typeof makeClientCerts>;
const port = () => inst.ports.admin!;
const url = (p: string) => `https://mail.example.test:${port()}${p}`;
const tlsOpts = () => ({ ca: path.join(inst.dir, 'tls', 'cert.pem'), resolve: `mail.example.test:${port()}:127.0.0.1` });
const withToken = (p: string, args: string[] = []) => curl(url(p), { ...tlsOpts(), args: ['-H', `Authorization: Bearer ${TOKEN}`, ...args] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function scrape(): Promise<Family[]> {
  const r = await withToken('/metrics');
  expect(r.status).toBe(200);
  expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(r.body);
}

const sample = (fams: Family[], name: string, labels: Record<string, string> = {}) =>
  fams.flatMap((f) => f.samples).find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

beforeAll(async () => {
  redirectPort = await freePort();
  inst = await makeInstallation('example.test', '', {
    admin: `metrics_token_file = "admin-token"\nclient_ca = "ca.pem"\nredirect_port = ${redirectPort}`,
  });
  writeFileSync(path.join(inst.dir, 'admin-token'), `${TOKEN}\n`, { mode: 0o600 });
  certs = makeClientCerts(inst.dir);
  expect(cli(inst, ['user', 'add', RCPT], 'a long enough password\n').status).toBe(0);
  server = await startServer(inst);
});
afterEach(() => killAll());
afterAll(async () => {
  await server?.kill('SIGTERM');
  inst?.cleanup();
});

describe('admin HTTPS listener', () => {
  it('serves /metrics to the token holder, parsed by prometheus_client, with C, I and A families', async () => {
    const fams = await scrape();
    const names = new Set(fams.flatMap((f) => [f.name, ...f.samples.map((s) => s.name)]));
    // C: outbound TLS policy results
    for (const n of ['postern_tls_success', 'postern_tls_failure']) expect(names).toContain(n);
    // I: repairs, damage, scrub and backup ages
    for (const n of ['postern_integrity_corrected', 'postern_integrity_uncorrectable', 'postern_spoof_detected', 'postern_last_scrub_age_seconds', 'postern_last_verified_backup_age_seconds', 'postern_damaged_blobs'])
      expect(names).toContain(n);
    // A: this node, the queue, delivery times, maintenance
    for (const n of ['postern_up', 'postern_queue_messages', 'postern_queue_oldest_age_seconds', 'postern_maintenance_active', 'postern_availability_downtime', 'postern_server_start'])
      expect(names).toContain(n);
    expect(sample(fams, 'postern_up')?.labels.node).toMatch(/^mail\.example\.test:/);
    expect(sample(fams, 'postern_up')?.value).toBe(1);
    expect(sample(fams, 'postern_server_start_total')?.value).toBe(1);
    expect(sample(fams, 'postern_queue_messages', { state: 'queued' })?.value).toBe(0);
    expect(sample(fams, 'postern_last_scrub_age_seconds')?.value).toBe(-1);
    expect(sample(fams, 'postern_maintenance_active')?.value).toBe(0);
    expect(fams.find((f) => f.name === 'postern_events')?.type).toBe('counter');
  });

  it('reports delivery times, a scrub and maintenance within a few seconds of them happening', async () => {
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: inst.ports.mx, secure: false, ignoreTLS: true, pool: false });
    for (let i = 0; i < 3; i++) await t.sendMail({ envelope: { from: 'sender@remote.test', to: [RCPT] }, raw: `From: sender@remote.test\r\nTo: ${RCPT}\r\nSubject: m${i}\r\n\r\nhello\r\n` });
    expect(cli(inst, ['scrub']).status).toBe(0);
    expect(cli(inst, ['maintenance', 'start', '--reason', 'metrics test']).status).toBe(0);
    let fams: Family[] = [];
    // The gauges read the store at most every 5 s: a generous bound for "it showed up".
    for (let i = 0; i < 40; i++) {
      fams = await scrape();
      if (sample(fams, 'postern_deliveries_last_hour', { path: 'inbound' })?.value === 3 && sample(fams, 'postern_maintenance_active')?.value === 1) break;
      await sleep(500);
    }
    expect(sample(fams, 'postern_deliveries_last_hour', { path: 'inbound' })?.value).toBe(3);
    for (const q of ['0.5', '0.95', '0.99']) expect(sample(fams, 'postern_delivery_time_seconds', { path: 'inbound', quantile: q })?.value).toBeGreaterThan(0);
    expect(sample(fams, 'postern_delivery_time_avg_seconds', { path: 'inbound' })?.value).toBeGreaterThan(0);
    expect(sample(fams, 'postern_maintenance_active')?.value).toBe(1);
    const scrubAge = sample(fams, 'postern_last_scrub_age_seconds')?.value ?? -1;
    expect(scrubAge).toBeGreaterThanOrEqual(0);
    expect(scrubAge).toBeLessThan(120);
    expect(sample(fams, 'postern_events_total', { kind: 'auth.result', property: 'I' })?.value).toBe(3);
    expect(cli(inst, ['maintenance', 'end']).status).toBe(0);
  });

  it('answers 401 without the token or with a wrong one, with no data', async () => {
    // One character changed; a random token may already end in "x".
    const wrong = `${TOKEN.slice(0, -1)}${TOKEN.endsWith('x') ? 'y' : 'x'}`;
    for (const args of [[], ['-H', `Authorization: Bearer ${wrong}`], ['-H', `Authorization: Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`]]) {
      for (const p of ['/metrics', '/api/v1/status', '/api/v1/events']) {
        const r = await curl(url(p), { ...tlsOpts(), args });
        expect(r.status).toBe(401);
        expect(r.headers['www-authenticate']).toBe('Bearer realm="postern"');
        expect(r.body).toBe('{"error":"unauthorized"}');
      }
    }
  });

  it('lets a client certificate signed by client_ca scrape, and no other certificate', async () => {
    const ok = await curl(url('/metrics'), { ...tlsOpts(), args: ['--cert', certs.cert, '--key', certs.key] });
    expect(ok.status).toBe(200);
    expect((await parseExposition(ok.body)).some((f) => f.name === 'postern_up')).toBe(true);
    const stranger = await curl(url('/metrics'), { ...tlsOpts(), args: ['--cert', certs.strangerCert, '--key', certs.strangerKey] });
    expect(stranger.status).toBe(401);
    expect(stranger.body).not.toContain('postern_');
  });

  it('gives a plain HTTP request on the HTTPS port no content', async () => {
    const raw = await rawExchange(port(), `GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`);
    expect(raw.closedByPeer).toBe(true);
    expect(raw.data.toString('latin1')).not.toMatch(/HTTP\/|postern_/);
    const viaCurl = await curl(`http://127.0.0.1:${port()}/metrics`, { args: ['-H', `Authorization: Bearer ${TOKEN}`] });
    expect(viaCurl.code).not.toBe(0);
    expect(viaCurl.status).toBe(0);
    expect(viaCurl.body).toBe('');
  });

  it('cuts a client that never finishes its handshake or its request headers', async () => {
    const started = Date.now();
    const [silent, trickle, headers] = await Promise.all([
      rawExchange(port(), '', 40_000),
      rawExchange(port(), '\x16\x03\x01', 40_000), // the first bytes of a TLS record, and then nothing
      rawExchange(redirectPort, 'GET / HTTP/1.1\r\nHost: x\r\n', 40_000),
    ]);
    // The deadlines are 10 s; closed by the server at all (not by our 40 s give-up) is what counts.
    expect([silent.closedByPeer, trickle.closedByPeer, headers.closedByPeer]).toEqual([true, true, true]);
    expect(Date.now() - started).toBeLessThan(40_000);
    expect(silent.data.toString('latin1')).not.toContain('HTTP/');
    expect(trickle.data.toString('latin1')).not.toContain('HTTP/');
    expect(headers.data.toString('latin1')).not.toMatch(/301|Location/);
  });

  it('redirects plain HTTP on redirect_port with 301 and no body, and serves nothing there', async () => {
    const r = await curl(`http://127.0.0.1:${redirectPort}/metrics?x=1`, { args: ['-H', `Authorization: Bearer ${TOKEN}`] });
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe(`https://127.0.0.1:${port()}/metrics?x=1`);
    expect(r.headers['content-length']).toBe('0');
    expect(r.body).toBe('');
    const post = await curl(`http://127.0.0.1:${redirectPort}/api/v1/status`, { args: ['--data-binary', 'x'.repeat(100_000)] });
    expect(post.status).toBe(301);
    expect(post.body).toBe('');
    const rawReply = (await rawExchange(redirectPort, 'GET / HTTP/1.1\r\nHost: evil.example/\r\n\r\n')).data.toString('latin1');
    expect(rawReply).toMatch(/^HTTP\/1\.1 301 [^]*\r\nLocation: https:\/\/mail\.example\.test:\d+\/\r\n/);
    expect(rawReply).not.toContain('postern_');
  });

  it('sends HSTS, nosniff, no-store and a strict CSP on every answer', async () => {
    const answers = [await withToken('/metrics'), await withToken('/api/v1/status'), await withToken('/nope'), await curl(url('/metrics'), tlsOpts()), await withToken('/api/v1/events?limit=0')];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 404, 401, 400]);
    for (const a of answers) {
      expect(a.headers['strict-transport-security']).toBe('max-age=31536000');
      expect(a.headers['x-content-type-options']).toBe('nosniff');
      expect(a.headers['cache-control']).toBe('no-store');
      expect(a.headers['content-security-policy']).toMatch(/^default-src 'none'; frame-ancestors 'none'/);
    }
  });

  it('refuses a request body over the limit with 413 and takes no writes', async () => {
    const big = await withToken('/api/v1/events', ['--data-binary', 'x'.repeat(100_000)]);
    expect(big.status).toBe(413);
    expect(big.body).not.toContain('events');
    const small = await withToken('/api/v1/events', ['--data-binary', 'kind=server.start']);
    expect(small.status).toBe(404);
  });

  it('serves the JSON API: status, events and delivery times', async () => {
    const status = JSON.parse((await withToken('/api/v1/status')).body) as Record<string, unknown>;
    expect(status).toMatchObject({ node: expect.stringMatching(/^mail\.example\.test:/), version: '0.1.0', maintenanceActive: expect.any(Boolean) });
    expect(status.listeners).toContainEqual({ name: 'https admin', address: '127.0.0.1', port: port(), tls: 'implicit' });
    expect(status.listeners).toContainEqual({ name: 'smtp mx', address: '127.0.0.1', port: inst.ports.mx, tls: 'starttls' });
    expect(status.queue).toMatchObject({ messages: expect.any(Number), oldestAgeSeconds: expect.any(Number) });
    const ev = JSON.parse((await withToken('/api/v1/events?kind=server.start&limit=5&since=1h')).body) as { count: number; events: { kind: string; at: string }[] };
    expect(ev.count).toBe(1);
    expect(ev.events[0]).toMatchObject({ kind: 'server.start', at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    const all = JSON.parse((await withToken('/api/v1/events?limit=2')).body) as { count: number };
    expect(all.count).toBe(2);
    const dt = JSON.parse((await withToken('/api/v1/delivery-times?since=1d')).body) as { directions: { direction: string; count: number }[] };
    expect(dt.directions).toContainEqual(expect.objectContaining({ direction: 'inbound', count: 3 }));
  });

  it('answers bad /api/v1 parameters with 400 and a message naming each one', async () => {
    const bad = async (q: string) => {
      const r = await withToken(`/api/v1/${q}`);
      expect(r.status).toBe(400);
      return (JSON.parse(r.body) as { issues: string[] }).issues;
    };
    expect(await bad('events?limit=1001')).toEqual(['limit: expected a whole number from 1 to 1000']);
    expect(await bad('events?limit=abc&kind=server.nope')).toEqual(['kind: is not a known event kind (see /api/v1/event-kinds)', 'limit: expected a whole number from 1 to 1000']);
    expect(await bad('events?since=tomorrow')).toEqual(['since: expected a span back from now ("15m", "12h", "7d", "2w"), an ISO 8601 date or Unix milliseconds']);
    expect(await bad('events?limit=1&limit=2')).toEqual(['limit: given more than once']);
    expect(await bad('events?user=alice')).toEqual(['unknown parameter user']);
    expect(await bad('delivery-times?since=')).toHaveLength(1);
    expect(await bad('status?verbose=1')).toEqual(['unknown parameter verbose']);
  });
});

describe('the Grafana dashboard', () => {
  interface Panel {
    type: string;
    title: string;
    datasource?: { uid: string };
    targets?: { expr: string; datasource?: { uid: string } }[];
  }

  it('parses, has a C, I and A row, and every metric it uses is in a real scrape', async () => {
    const dash = JSON.parse(readFileSync(path.resolve('contrib/grafana/postern.json'), 'utf8')) as { panels: Panel[]; templating: { list: { name: string; type: string }[] } };
    expect(dash.templating.list).toContainEqual(expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource' }));
    expect(dash.panels.filter((p) => p.type === 'row').map((p) => p.title)).toEqual(['Confidentiality', 'Integrity', 'Availability']);
    const queries = dash.panels.flatMap((p) => p.targets ?? []);
    expect(queries.length).toBeGreaterThan(15);
    for (const p of dash.panels.filter((x) => x.type !== 'row')) expect(p.datasource?.uid).toBe('${DS_PROMETHEUS}');
    for (const q of queries) expect(q.datasource?.uid).toBe('${DS_PROMETHEUS}');

    const fams = await scrape();
    // prometheus_client names a counter's family without its _total; its samples keep it.
    const exposed = new Set(fams.flatMap((f) => [f.name, ...(f.type === 'counter' ? [`${f.name}_total`] : []), ...f.samples.map((s) => s.name)]));
    const used = new Set(queries.flatMap((q) => q.expr.match(/\bpostern_[a-z0-9_]+/g) ?? []));
    expect(used.size).toBeGreaterThan(20);
    const unknown = [...used].filter((n) => !exposed.has(n));
    expect(unknown).toEqual([]);
  });
});

describe('admin listener without token or client CA', () => {
  it('refuses /metrics with 403 and warns at start', async () => {
    const bare = await makeInstallation('bare.test');
    let proc: ServerProcess | null = null;
    try {
      proc = await startServer(bare);
      const r = await curl(`https://mail.bare.test:${bare.ports.admin}/metrics`, {
        ca: path.join(bare.dir, 'tls', 'cert.pem'),
        resolve: `mail.bare.test:${bare.ports.admin}:127.0.0.1`,
      });
      expect(r.status).toBe(403);
      expect(r.body).not.toContain('postern_');
      expect(r.headers['strict-transport-security']).toBe('max-age=31536000');
      expect(proc.stdout()).toMatch(/neither metrics_token_file nor client_ca is set/);
    } finally {
      await proc?.kill('SIGTERM');
      bare.cleanup();
    }
  });
});

describe('admin listener with an unusable token file', () => {
  it('refuses to start with the key and the reason, before a start is recorded', async () => {
    const bad = await makeInstallation('badtoken.test', '', { admin: 'metrics_token_file = "token"' });
    try {
      writeFileSync(path.join(bad.dir, 'token'), 'too-short\n');
      const r = cli(bad, ['start']);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/admin\.metrics_token_file: the token in .*token has 9 characters, at least 32 are needed/);
      const store = await openStore({ backend: 'sqlite', dataDir: path.join(bad.dir, 'data') });
      try {
        expect(await store.meta.events.list('server.start')).toEqual([]);
      } finally {
        await store.close();
      }
    } finally {
      bad.cleanup();
    }
  });
});
