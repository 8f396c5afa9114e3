/**
 * Reports built from known events in a real SQLite store: exact counts,
 * trends, outages clipped at the window's edges, the SLA, and HTML that a
 * strict parser accepts with hostile text escaped.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type FedStore } from '../../store/index.js';
import { buildReport, renderHtml, renderJson, renderText, type Report } from './index.js';
import { trend } from './format.js';

const DAY = 86_400_000;
const H = 3_600_000;
const M = 60_000;
const SINCE = Date.UTC(2026, 10, 1);
const UNTIL = SINCE + 30 * DAY;
const NOW = UNTIL + DAY;
const HOSTILE = 'evil<script>alert(1)</script>".example';

let dir: string;
let store: FedStore;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'postern-report-'));
  store = await openStore({ backend: 'sqlite', dataDir: dir });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const rec = (kind: string, subject: string, data: Record<string, unknown>, at: number, times = 1) =>
  Promise.all(Array.from({ length: times }, () => store.meta.events.record(kind, subject, data, at)));

const report = (slaTargetPct = 99.9, since = SINCE, until = UNTIL): Promise<Report> =>
  buildReport({ events: store.meta.events, deliveryTimes: store.meta.deliveryTimes, queue: store.meta.queue }, { since, until, now: NOW, slaTargetPct });

async function fill(): Promise<void> {
  const mid = SINCE + 10 * DAY;
  const prev = SINCE - 5 * DAY;
  await rec('smtp.session', 'c', { listener: 'mx', tls: 'TLSv1.3' }, mid, 3);
  await rec('smtp.session', 'c', { listener: 'mx', tls: 'none' }, mid);
  await rec('smtp.session', 'c', { listener: 'submission', tls: 'TLSv1.3' }, mid, 2);
  await rec('smtp.session', 'c', { listener: 'submissions', tls: 'TLSv1.2' }, mid);
  await rec('smtp.session', 'c', { listener: 'mx', tls: 'TLSv1.3' }, prev, 2);
  await rec('smtp.message', 'q', { listener: 'mx', tls: 'TLSv1.3' }, SINCE); // the first instant belongs to the window
  await rec('smtp.message', 'q', { listener: 'mx', tls: 'TLSv1.3' }, mid, 5);
  await rec('smtp.message', 'q', { listener: 'mx', tls: 'none' }, mid, 2);
  await rec('smtp.message', 'q', { listener: 'mx', tls: 'none' }, UNTIL); // the last instant does not
  await rec('smtp.message', 'q', { listener: 'submissions', tls: 'TLSv1.3' }, mid, 4);
  await rec('smtp.message', 'q', { listener: 'mx', tls: 'TLSv1.3' }, prev, 4);
  await rec('relay.message', 'q', { tls: 'TLSv1.3', verified: 'dane' }, mid, 3);
  await rec('relay.message', 'q', { tls: 'none', verified: 'none' }, mid);
  await rec('tls.failure', HOSTILE, { policyType: 'tlsa', resultType: 'validation-failure' }, mid, 2);
  await rec('tls.failure', 'b.example', { policyType: 'sts', resultType: 'certificate-expired' }, mid);
  await rec('auth.plaintext_refused', 'c', { protocol: 'imap' }, mid, 2);
  await rec('auth.plaintext_refused', 'c', { protocol: 'pop3' }, mid);
  await rec('dlp.match', 'q', { rule: 'iban', group: 'finance', direction: 'outbound', action: 'quarantine' }, mid);
  await rec('smime.message', 'q', { signed: true, encrypted: false }, mid, 2);
  await rec('smime.message', 'q', { signed: true, encrypted: true }, mid);
  await rec('integrity.corrected', 'blob', { area: 'data' }, mid, 3);
  await rec('integrity.corrected', 'blob', { area: 'data' }, prev);
  await rec('integrity.uncorrectable', 'blob', {}, mid);
  await rec('integrity.missing', 'blob', {}, mid);
  await rec('integrity.scrub_completed', 'store', { clean: true }, SINCE - 10 * DAY);
  await rec('integrity.scrub_completed', 'store', { clean: true }, UNTIL + H); // after the window: not "the last" for it
  await rec('spoof.detected', 'q', { detector: 'lookalike', origin: 'outside' }, mid, 2);
  await rec('malware.detected', 'q', { engine: 'clamav', direction: 'inbound' }, mid);
  await rec('auth.result', 'q', { dkim: 'fail', dmarc: 'fail' }, mid);
  await rec('auth.result', 'q', { dkim: 'fail', dmarc: 'pass' }, mid);
  await rec('auth.result', 'q', { dkim: 'pass', dmarc: 'fail' }, mid);
  await rec('auth.result', 'q', { dkim: 'pass', dmarc: 'pass' }, mid, 5);
  const down = (node: string, cause: string, planned: boolean, from: number, to: number) => rec('availability.downtime', node, { cause, planned, from, to, ms: to - from }, to);
  await down('a', 'unclean_stop', false, SINCE - H, SINCE + H); // half before the window
  await down('b', 'probe', false, SINCE + 30 * M, SINCE + 90 * M); // overlaps the one above: counted once
  await down('a', 'stopped', true, mid, mid + 2 * H);
  await down('a', 'probe', false, UNTIL - 30 * M, UNTIL + 30 * M); // half after the window, recorded after it
  await down('a', 'probe', false, SINCE - 3 * DAY, SINCE - 3 * DAY + 10 * M); // previous window only
  await rec('maintenance.start', 'maintenance', { reason: '<b>disk swap</b>' }, mid);
  await rec('maintenance.end', 'maintenance', {}, mid + 2 * H);
}

describe('buildReport', () => {
  it('counts confidentiality figures exactly, with trends', async () => {
    await fill();
    const c = (await report()).confidentiality;
    expect(c.inbound.sessions).toEqual({ value: 4, previous: 2, change: 2, changePct: 100 });
    expect(c.inbound.messages).toEqual({ value: 8, previous: 4, change: 4, changePct: 100 });
    expect(c.inbound.tlsSharePct).toEqual({ value: 75, previous: 100, change: -25, changePct: -25 });
    expect(c.inbound.byTls).toEqual([
      { tls: 'TLSv1.3', sessions: 3, messages: 6 },
      { tls: 'none', sessions: 1, messages: 2 },
    ]);
    expect(c.submission.sessions.value).toBe(3);
    expect(c.submission.messages).toEqual({ value: 4, previous: 0, change: 4, changePct: null });
    expect(c.submission.tlsSharePct).toEqual({ value: 100, previous: null, change: null, changePct: null });
    expect(c.outbound.messages.value).toBe(4);
    expect(c.outbound.tlsSharePct.value).toBe(75);
    expect(c.tlsFailures.total.value).toBe(3);
    expect(c.tlsFailures.byDomain).toEqual([
      { domain: HOSTILE, count: 2 },
      { domain: 'b.example', count: 1 },
    ]);
    expect(c.tlsFailures.byPolicy).toContainEqual({ labels: { policyType: 'tlsa', resultType: 'validation-failure' }, count: 2 });
    expect(c.plaintextAuthRefused.byProtocol).toEqual([
      { labels: { protocol: 'imap' }, count: 2 },
      { labels: { protocol: 'pop3' }, count: 1 },
    ]);
    expect(c.dlp.byRule).toEqual([{ labels: { rule: 'iban', group: 'finance', direction: 'outbound', action: 'quarantine' }, count: 1 }]);
    expect(c.smime.signed.value).toBe(3);
    expect(c.smime.encrypted.value).toBe(1);
    expect(c.smime.signedPct.value).toBe(25); // 3 of 12 messages accepted over SMTP
  });

  it('counts integrity figures, and the last scrub at or before the end of the window', async () => {
    await fill();
    const i = (await report()).integrity;
    expect(i.corrected).toEqual({ value: 3, previous: 1, change: 2, changePct: 200 });
    expect(i.correctedByArea).toEqual([{ labels: { area: 'data' }, count: 3 }]);
    expect(i.uncorrectable).toEqual({ value: 2, previous: 0, change: 2, changePct: null });
    expect(i.lastScrub).toEqual({ at: SINCE - 10 * DAY, ageMs: 40 * DAY });
    expect(i.lastVerifiedBackup).toEqual({ at: null, ageMs: null });
    expect(i.spoofed.byDetector).toEqual([{ labels: { detector: 'lookalike', origin: 'outside' }, count: 2 }]);
    expect(i.malware.total.value).toBe(1);
    expect(i.dkimFailed.value).toBe(2);
    expect(i.dmarcFailed.value).toBe(2);
  });

  it('clips outages to the window, counts overlaps once, and measures the SLA', async () => {
    await fill();
    const a = (await report()).availability;
    expect(a.outages).toEqual({ value: 4, previous: 2, change: 2, changePct: 100 });
    expect(a.unplannedOutages.value).toBe(3);
    expect(a.plannedOutages.value).toBe(1);
    // 90 minutes at the start (two overlapping outages) and 30 at the end.
    expect(a.unplannedMs.value).toBe(120 * M);
    // The previous window: 10 minutes, and the hour before SINCE of the outage that spans both.
    expect(a.unplannedMs.previous).toBe(70 * M);
    expect(a.plannedMs.value).toBe(2 * H);
    expect(a.availabilityPct.value).toBeCloseTo(100 * (1 - (120 * M) / (30 * DAY)), 10);
    expect(a.sla).toEqual({ targetPct: 99.9, met: false, allowedMs: 2_592_000, remainingMs: 2_592_000 - 120 * M });
    expect(a.outageList.map((o) => [o.node, o.msInWindow])).toEqual([
      ['a', H],
      ['b', H],
      ['a', 2 * H],
      ['a', 30 * M],
    ]);
    expect(a.maintenance).toEqual([{ from: SINCE + 10 * DAY, to: SINCE + 10 * DAY + 2 * H, reason: '<b>disk swap</b>', source: 'declared' }]);
    expect((await report(99.5)).availability.sla.met).toBe(true);
  });

  it('meets an SLA exactly at its budget, and is 100% without outages', async () => {
    expect((await report()).availability.availabilityPct.value).toBe(100);
    await rec('availability.downtime', 'a', { cause: 'probe', planned: false, from: SINCE + DAY, to: SINCE + DAY + 2_592_000, ms: 2_592_000 }, SINCE + DAY + 2_592_000);
    const a = (await report()).availability;
    expect(a.availabilityPct.value).toBeCloseTo(99.9, 10);
    expect(a.sla).toMatchObject({ met: true, remainingMs: 0 });
  });

  it('reads delivery times and the queue now', async () => {
    const blob = await store.blobs.put(Buffer.from('Subject: x\r\n\r\nx\r\n'));
    const msg = (id: string, receivedAt: number) => ({ id, blobId: blob.id, size: blob.size, sender: 's@x.test', receivedAt, source: 'mx' as const, clientAddress: '127.0.0.1', authUser: null, meta: {} });
    await store.meta.queue.enqueue(msg('Q1', SINCE + DAY), [{ address: 'r@remote.test', transport: 'remote' }]);
    const [lease] = await store.meta.queue.lease({ transport: 'remote', now: SINCE + DAY + 1000, leaseMs: 60_000, limit: 1 });
    expect(await store.meta.queue.complete(lease!, SINCE + DAY + 4000)).toBe(true);
    await store.meta.queue.enqueue(msg('Q2', NOW - 5 * M), [
      { address: 'a@remote.test', transport: 'remote' },
      { address: 'b@remote.test', transport: 'remote' },
    ]);
    const a = (await report()).availability;
    expect(a.delivery.find((d) => d.direction === 'outbound')).toMatchObject({ count: { value: 1, previous: 0 }, p95Ms: { value: 4000, previous: null, change: null } });
    expect(a.queueNow).toEqual({ messages: 1, recipients: 2, oldestAgeMs: 5 * M });
  });

  it('fills daily series for the charts', async () => {
    await fill();
    const s = (await report()).series;
    expect(s.bucketMs).toBe(DAY);
    expect(s.starts).toHaveLength(30);
    expect(s.messagesByTls.find((t) => t.tls === 'TLSv1.3')!.counts.slice(0, 11)).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]);
    expect(s.corrections[10]).toBe(3);
    expect(s.outages[0]).toBe(2);
    expect(s.unplannedMs[0]).toBe(90 * M);
    expect(s.unplannedMs[29]).toBe(30 * M);
  });

  it('refuses a window that ends before it starts', async () => {
    await expect(report(99.9, UNTIL, SINCE)).rejects.toThrow(/since before until/);
  });
});

describe('renderers', () => {
  it('prints the text report on one screen with aligned columns', async () => {
    await fill();
    const text = renderText(await report());
    const lines = text.trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(45);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(120);
    expect(lines.find((l) => l.startsWith('  inbound messages (mx)'))).toMatch(/^ {2}inbound messages \(mx\) +8 +4 {2}\+4 \(\+100\.0%\)/);
    // Figure lines: the window and previous columns end at the same places.
    const figureLines = lines.filter((l) => /^ {2,4}\S/.test(l) && l.length > 66 && l[38] === ' ');
    expect(figureLines).toHaveLength(25);
    for (const l of figureLines) expect([l[51] !== ' ', l[52], l[65] !== ' ', l.slice(66, 68)], l).toEqual([true, ' ', true, '  ']);
    expect(text).toContain('SLA 99.9% MISSED');
    expect(lines.find((l) => l.includes('damaged beyond repair'))).toContain('+2 (—)');
  });

  it('writes JSON of the documented shape', async () => {
    await fill();
    const j = JSON.parse(renderJson(await report())) as Record<string, unknown>;
    expect(Object.keys(j)).toEqual(['schema', 'generatedAt', 'window', 'previous', 'confidentiality', 'integrity', 'availability', 'series']);
    expect(j.schema).toBe('postern.report/1');
    expect(j.window).toEqual({ since: SINCE, until: UNTIL });
  });

  it('writes one self-contained HTML page that a strict parser accepts, with hostile text escaped', async () => {
    await fill();
    const html = renderHtml(await report());
    expect(html).not.toMatch(/<script|javascript:|https?:\/\/(?!www\.w3\.org\/2000\/svg)/i);
    expect(html).toContain('evil&#60;script&#62;alert(1)&#60;/script&#62;&#34;.example');
    expect(html).toContain('&#60;b&#62;disk swap&#60;/b&#62;');
    expect(html.match(/<svg /g)).toHaveLength(4);
    const check = spawnSync('/usr/bin/python3', ['-c', STRICT_HTML], { input: html, encoding: 'utf8', timeout: 30_000 });
    expect(check.stderr).toBe('');
    expect(check.stdout.trim()).toBe('ok');
  });
});

it('keeps control characters of stored text off the terminal', async () => {
  await rec('tls.failure', 'x\u001b[2J\u001b]0;owned\u0007.example', { policyType: 'tlsa', resultType: 'validation-failure' }, SINCE + DAY);
  const text = renderText(await report());
  expect(text).toContain('x?[2J?]0;owned?.example 1');
  expect([...text].filter((ch) => ch !== '\n' && ch.charCodeAt(0) < 0x20)).toEqual([]);
});

describe('trend', () => {
  it('shows absolute and percent change, and a dash with nothing to compare', () => {
    expect(trend({ value: 5, previous: 0, change: 5, changePct: null }, 'count')).toBe('+5 (—)');
    expect(trend({ value: 1500, previous: 1000, change: 500, changePct: 50 }, 'count')).toBe('+500 (+50.0%)');
    expect(trend({ value: 99, previous: 99.5, change: -0.5, changePct: -0.5 }, 'pct')).toBe('-0.50 pt');
    expect(trend({ value: null, previous: 3, change: null, changePct: null }, 'ms')).toBe('—');
  });
});

/**
 * Python's html.parser with strict bookkeeping: every element but the void
 * ones is closed in order, no script element or event-handler attribute, one
 * html, head and body.
 */
const STRICT_HTML = String.raw`
import sys
from html.parser import HTMLParser
VOID = {'meta', 'br', 'hr', 'img', 'input', 'link'}
SVG_EMPTY = set()
class P(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.seen, self.errors = [], {}, []
    def handle_starttag(self, tag, attrs):
        if 'svg' not in self.stack: self.seen[tag] = self.seen.get(tag, 0) + 1
        if tag == 'script': self.errors.append('script element')
        for k, v in attrs:
            if k.startswith('on'): self.errors.append('event handler ' + k)
            if k in ('href', 'src'): self.errors.append('external reference ' + k)
        if tag not in VOID: self.stack.append(tag)
    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID: self.stack.pop()
    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append('unbalanced </%s> at %s, open: %s' % (tag, self.getpos(), self.stack[-3:]))
        else:
            self.stack.pop()
p = P()
p.feed(sys.stdin.read())
p.close()
if p.stack: p.errors.append('unclosed: %s' % p.stack)
for t in ('html', 'head', 'body', 'title'):
    if p.seen.get(t) != 1: p.errors.append('%s seen %s times' % (t, p.seen.get(t)))
if p.errors:
    sys.stderr.write('\n'.join(p.errors[:10]) + '\n')
else:
    print('ok')
`;
