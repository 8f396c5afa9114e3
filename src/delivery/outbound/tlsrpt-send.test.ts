import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ManualClock } from '../../core/clock.js';
import { generateSelfSigned } from '../../crypto/selfsigned.js';
import { Directory } from '../../directory/directory.js';
import { createLogger } from '../../metrics/logger.js';
import { MemoryResolver } from '../../net/dns/memory.js';
import { Spool } from '../../queue/spool.js';
import { openStore, type Store } from '../../store/index.js';
import { tlsReportsForDay } from './tlsrpt.js';
import { parseTlsRptRecord } from './tlsrpt-mail.js';
import { TlsReportSender, TlsReportTimer, previousDay } from './tlsrpt-send.js';

const DAY = '2026-12-03';
const at = Date.parse(`${DAY}T10:00:00Z`);
const HOST = 'mail.ours.test';
const sts = { policyType: 'sts', policyStrings: ['version: STSv1', 'mode: enforce', 'mx: mx.far.test', 'max_age: 86400'], mxPatterns: ['mx.far.test'] };

/** What python3's email package (a real MIME parser) reads out of the report mail. */
function parseWithPython(raw: Buffer): { headers: Record<string, string>; type: string; reportType: string; parts: { type: string; filename: string | null; payload: string }[] } {
  const script = `
import sys, json, email, base64
from email import policy
m = email.message_from_bytes(sys.stdin.buffer.read(), policy=policy.compat32)
parts = [{"type": p.get_content_type(), "filename": p.get_filename(), "payload": base64.b64encode(p.get_payload(decode=True) or b"").decode()} for p in m.get_payload()]
print(json.dumps({"headers": {k.lower(): v for k, v in m.items()}, "type": m.get_content_type(), "reportType": m.get_param("report-type"), "parts": parts}))
`;
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script], { input: raw, timeout: 30_000 }).toString('utf8')) as ReturnType<typeof parseWithPython>;
}

describe('parseTlsRptRecord', () => {
  it('reads mailto: and https: destinations of the one v=TLSRPTv1 record', () => {
    expect(parseTlsRptRecord(['v=spf1 -all', 'v=TLSRPTv1; rua=mailto:TLS@Far.test,https://r.far.test/v1?x=1 ; ext=1'])).toEqual({
      targets: [
        { kind: 'mailto', address: 'tls@far.test' },
        { kind: 'https', url: 'https://r.far.test/v1?x=1' },
      ],
    });
    expect(parseTlsRptRecord(['v=TLSRPTv1;rua=mailto:a%40b@far.test'])).toEqual({ error: 'no usable mailto: or https: URI in rua=' });
  });

  it('refuses none, two, or one without usable destinations', () => {
    expect(parseTlsRptRecord([])).toEqual({ error: 'no v=TLSRPTv1 record' });
    expect(parseTlsRptRecord(['v=TLSRPTv1; rua=mailto:a@far.test', 'v=TLSRPTv1; rua=mailto:b@far.test'])).toMatchObject({ error: expect.stringMatching(/exactly one/) });
    expect(parseTlsRptRecord(['v=TLSRPTv1; rua=http://r.far.test/,ftp://x,mailto:not-an-address'])).toMatchObject({ error: expect.stringMatching(/no usable/) });
    expect(parseTlsRptRecord(['v=TLSRPTv1; ruf=mailto:a@far.test'])).toEqual({ error: 'no rua= in the record' });
    const many = Array.from({ length: 20 }, (_, i) => `mailto:r${i}@far.test`).join(',');
    expect((parseTlsRptRecord([`v=TLSRPTv1; rua=${many}`]) as { targets: unknown[] }).targets).toHaveLength(5);
  });
});

describe('TlsReportSender', () => {
  let store: Store;
  let https: Server;
  let httpsPort = 0;
  const posts: { type: string | undefined; path: string | undefined; body: Buffer }[] = [];
  let caPem = '';
  const clock = new ManualClock(Date.parse('2026-12-04T00:07:00Z'));
  const resolver = new MemoryResolver({
    '_smtp._tls.far.test': { TXT: ['v=TLSRPTv1; rua=mailto:tls-reports@far.test,https://reports.far.test:PORT/v1/tlsrpt'] },
    'reports.far.test': { A: ['127.0.0.1'] },
    '_smtp._tls.plain.test': { TXT: ['v=spf1 -all'] },
    '_smtp._tls.ours.test': { TXT: ['v=TLSRPTv1; rua=mailto:postmaster@ours.test'] },
    '_smtp._tls.down.test': { fail: ['TXT'] },
  });

  beforeAll(async () => {
    const cert = await generateSelfSigned({ hostname: 'reports.far.test' });
    caPem = cert.certPem;
    https = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        posts.push({ type: req.headers['content-type'], path: req.url, body: Buffer.concat(chunks) });
        res.writeHead(201).end();
      });
    });
    await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
    httpsPort = (https.address() as AddressInfo).port;
    resolver.set('_smtp._tls.far.test', { TXT: [`v=TLSRPTv1; rua=mailto:tls-reports@far.test,https://reports.far.test:${httpsPort}/v1/tlsrpt`] });

    store = await openStore({ backend: 'sqlite', dataDir: mkdtempSync(path.join(tmpdir(), 'postern-tlsrpt-')) });
    await store.meta.directory.addDomain('ours.test', 1);
    await store.meta.directory.addAccount({ address: 'postmaster@ours.test', passwordHash: 'x' }, 1);
    const ev = store.meta.events;
    for (let i = 0; i < 3; i++) await ev.record('tls.success', 'far.test', { ...sts, mx: 'mx.far.test', ip: '192.0.2.1', sendingIp: '198.51.100.1' }, at + i);
    await ev.record('tls.failure', 'far.test', { ...sts, mx: 'mx.far.test', ip: '192.0.2.1', resultType: 'certificate-expired', reason: 'CERT_HAS_EXPIRED' }, at + 5);
    await ev.record('tls.plaintext', 'plain.test', { policyType: 'no-policy-found', policyStrings: [], mx: 'mx.plain.test' }, at);
    await ev.record('tls.success', 'ours.test', { policyType: 'no-policy-found', policyStrings: [], mx: 'mx.ours.test' }, at);
    await ev.record('tls.success', 'down.test', { policyType: 'no-policy-found', policyStrings: [], mx: 'mx.down.test' }, at);
    await ev.record('tls.success', 'far.test', { ...sts, mx: 'mx.far.test' }, at - 86_400_000); // the day before: not in this report
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await new Promise<void>((r) => (https ? https.close(() => r()) : r()));
  });

  const sender = () =>
    new TlsReportSender(
      { events: store.meta.events, resolver, spool: new Spool(store.blobs, store.meta.queue, clock), directory: new Directory(store.meta.directory), clock, log: createLogger('silent') },
      { hostname: HOST, extraCa: [caPem], httpsTimeoutMs: 20_000 },
    );

  it('mails and posts each domain\'s report once, as RFC 8460 5.3 asks, and the gzip\'d JSON is the file output', async () => {
    expect(previousDay(clock.now())).toBe(DAY);
    const outcomes = await sender().sendDay(DAY);
    expect(outcomes.map((o) => [o.domain, o.result])).toEqual([
      ['down.test', 'failed'],
      ['far.test', 'sent'],
      ['ours.test', 'sent'],
      ['plain.test', 'skipped'],
    ]);
    const expected = (await tlsReportsForDay(store.meta.events, { day: DAY, organization: HOST, contact: `postmaster@${HOST}`, sendingMta: HOST })).find((r) => r.domain === 'far.test')!;
    expect(expected.report.policies[0]!.summary).toEqual({ 'total-successful-session-count': 3, 'total-failure-session-count': 1 });

    // mailto: into the queue, for the remote address, from the null sender.
    const pending = await store.meta.queue.listPending();
    const remote = pending.find((r) => r.address === 'tls-reports@far.test')!;
    expect(remote.transport).toBe('remote');
    const msg = (await store.meta.queue.getMessage(remote.queueId))!;
    expect(msg).toMatchObject({ sender: '', source: 'local', meta: { tlsrpt: 'far.test' } });
    const raw = Buffer.from(await store.blobs.get(msg.blobId));
    expect(raw.toString('latin1')).not.toMatch(/[^\r]\n|\r(?!\n)/);
    const m = parseWithPython(raw);
    expect(m.type).toBe('multipart/report');
    expect(m.reportType).toBe('tlsrpt');
    expect(m.headers.from).toBe(`tls-reports@${HOST}`);
    expect(m.headers.subject).toBe(`Report Domain: far.test Submitter: ${HOST} Report-ID: <${DAY}.far.test@${HOST}>`);
    expect(m.headers['tls-report-domain']).toBe('far.test');
    expect(m.headers['tls-report-submitter']).toBe(HOST);
    const report = m.parts.find((p) => p.type === 'application/tlsrpt+gzip')!;
    expect(report.filename).toBe(`${expected.fileName}.gz`);
    expect(report.filename).toMatch(new RegExp(`^${HOST}!far\\.test!\\d+!\\d+\\.json\\.gz$`));
    expect(JSON.parse(gunzipSync(Buffer.from(report.payload, 'base64')).toString('utf8'))).toEqual(expected.report);

    // a mailto: of one of our own domains goes to the mailbox.
    expect(pending.find((r) => r.address === 'postmaster@ours.test')!.transport).toBe('local');

    // https: one POST of the gzip'd JSON.
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatchObject({ type: 'application/tlsrpt+gzip', path: '/v1/tlsrpt' });
    expect(JSON.parse(gunzipSync(posts[0]!.body).toString('utf8'))).toEqual(expected.report);

    const sent = await store.meta.events.list('tlsrpt.sent');
    expect(sent.find((e) => e.subject === 'far.test')!.data).toMatchObject({ day: DAY, targets: ['mailto:tls-reports@far.test', `https://reports.far.test:${httpsPort}/v1/tlsrpt`], failed: [] });
    expect((await store.meta.events.list('tlsrpt.skipped'))[0]).toMatchObject({ subject: 'plain.test', data: { day: DAY, reason: 'no v=TLSRPTv1 record' } });
  });

  it('never sends a domain and day twice; a DNS failure is tried again, at most three times', async () => {
    const queued = (await store.meta.queue.listPending()).length;
    const second = await sender().sendDay(DAY);
    expect(second.map((o) => [o.domain, o.result])).toEqual([
      ['down.test', 'failed'],
      ['far.test', 'already'],
      ['ours.test', 'already'],
      ['plain.test', 'already'],
    ]);
    expect(posts).toHaveLength(1);
    expect((await store.meta.queue.listPending()).length).toBe(queued);
    expect((await sender().sendDay(DAY)).find((o) => o.domain === 'down.test')!.result).toBe('failed');
    expect((await sender().sendDay(DAY)).find((o) => o.domain === 'down.test')!.result).toBe('already');
    expect(resolver.log.filter((l) => l === 'TXT _smtp._tls.down.test')).toHaveLength(3);
  });

  it('an https destination that refuses is a failure, tried again later', async () => {
    const day = '2026-11-30';
    await store.meta.events.record('tls.success', 'bad.test', { policyType: 'no-policy-found', policyStrings: [], mx: 'mx.bad.test' }, Date.parse(`${day}T12:00:00Z`));
    resolver.set('other.far.test', { A: ['127.0.0.1'] });
    resolver.set('_smtp._tls.bad.test', { TXT: [`v=TLSRPTv1; rua=https://other.far.test:${httpsPort}/v1/tlsrpt`] }); // the certificate names reports.far.test only
    const [o] = await sender().sendDay(day);
    expect(o).toMatchObject({ domain: 'bad.test', result: 'failed' });
    expect(o!.targets[0]).toMatchObject({ ok: false, reason: expect.stringMatching(/altname|other\.far\.test/i) });
    expect(posts).toHaveLength(1);
  });

  it('the server\'s timer sends yesterday\'s reports that are not sent yet, and stops cleanly', async () => {
    await store.meta.events.record('tls.success', 'timer.test', { policyType: 'no-policy-found', policyStrings: [], mx: 'mx.timer.test' }, at);
    resolver.set('_smtp._tls.timer.test', { TXT: ['v=TLSRPTv1; rua=mailto:tlsrpt@timer.test'] });
    const timer = new TlsReportTimer(sender(), clock, createLogger('silent'), { maxDelayMs: 0 });
    timer.start();
    try {
      const deadline = Date.now() + 20_000; // a guard, not an assertion
      while (Date.now() < deadline && !(await store.meta.events.list('tlsrpt.sent')).some((e) => e.subject === 'timer.test')) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await timer.stop();
    }
    expect((await store.meta.events.list('tlsrpt.sent')).filter((e) => e.subject === 'timer.test').map((e) => e.data.day)).toEqual([DAY]);
    expect((await store.meta.queue.listPending()).filter((p) => p.address === 'tlsrpt@timer.test')).toHaveLength(1);
    expect(posts).toHaveLength(1); // far.test was not posted again
  });
});
