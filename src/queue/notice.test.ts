import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../store/index.js';
import { Directory } from '../directory/directory.js';
import { ManualClock } from '../core/clock.js';
import { createLogger } from '../metrics/logger.js';
import { decodeQuotedPrintable } from '../codec/mime/transfer.js';
import { decodeEncodedWords } from '../codec/mime/encoded-word.js';
import { Spool } from './spool.js';
import { NoticeSender, buildNotice, quotedPrintable } from './notice.js';

function logs() {
  const lines: Record<string, unknown>[] = [];
  return { lines, log: createLogger('info', { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) }) };
}

function split(msg: string): { head: Map<string, string>; body: string } {
  const at = msg.indexOf('\r\n\r\n');
  const [h, body] = [msg.slice(0, at), msg.slice(at + 4)];
  const head = new Map<string, string>();
  for (const f of h.replace(/\r\n(?=[ \t])/g, '').split('\r\n')) head.set(f.slice(0, f.indexOf(':')).toLowerCase(), f.slice(f.indexOf(':') + 1).trim());
  return { head, body };
}

describe('notices', () => {
  it('queues a notice per local address as local mail from the null sender; drops outside addresses; once per message', async () => {
    const store = await openStore({ backend: 'sqlite', dataDir: mkdtempSync(path.join(tmpdir(), 'postern-notice-')) });
    try {
      const d = store.meta.directory;
      await d.addDomain('example.test', 1);
      await d.addDomain('branch.test', 1);
      const ann = await d.addAccount({ address: 'ann@example.test', passwordHash: 'x' }, 1);
      const counsel = await d.addAccount({ address: 'counsel@example.test', passwordHash: 'x' }, 1);
      await d.addAlias('legal@example.test', 'counsel@example.test');
      await d.addAlias('legal@example.test', 'lawyer@remote.test');
      const clock = new ManualClock(Date.UTC(2026, 11, 4, 15, 0, 0));
      const { lines, log } = logs();
      const sender = new NoticeSender({ spool: new Spool(store.blobs, store.meta.queue, clock), directory: new Directory(d), hostname: 'mail.example.test', clock, log });
      const text = 'Your message "Q3 numbers" was held: it contains payment card numbers (4111 **** **** 1111).\nÄrger? Ask legal.';
      const notices = [
        { to: 'Ann@Example.test', subject: 'Message held: Q3 numbers – confidential', text },
        { to: 'ann@example.test', subject: 'Message held: Q3 numbers – confidential', text }, // the same notice again
        { to: 'boss@remote.test', subject: 'x', text: 'y' }, // outside: no backscatter
        { to: 'nobody@example.test', subject: 'x', text: 'y' },
        { to: 'legal@example.test', subject: 'Held for legal', text: 'A message from ann@example.test was held.' },
        { to: 'not an address', subject: 'x', text: 'y' },
      ];
      expect(await sender.send('QORIG1', notices)).toBe(2);
      expect(await sender.send('QORIG1', notices)).toBe(0);

      const pending = await store.meta.queue.listPending();
      expect(pending.map((r) => [r.address, r.transport, r.accountId]).sort()).toEqual([
        ['ann@example.test', 'local', ann.id],
        ['counsel@example.test', 'local', counsel.id],
      ]);
      const toAnn = (await store.meta.queue.getMessage(pending.find((r) => r.address === 'ann@example.test')!.queueId))!;
      expect(toAnn).toMatchObject({ sender: '', source: 'local', meta: { noticeFor: 'QORIG1' } });
      const raw = Buffer.from(await store.blobs.get(toAnn.blobId)).toString('utf8');
      expect(raw).not.toMatch(/[^\r]\n|\r(?!\n)/);
      const { head, body } = split(raw);
      expect(head.get('from')).toBe('"postern" <postmaster@example.test>');
      expect(head.get('to')).toBe('<ann@example.test>');
      expect(decodeEncodedWords(head.get('subject')!)).toBe('Message held: Q3 numbers – confidential');
      expect(head.get('date')).toBe('Fri, 4 Dec 2026 15:00:00 +0000');
      expect(head.get('message-id')).toMatch(/^<QORIG1\.[0-9a-f]{12}\.notice@mail\.example\.test>$/);
      expect(head.get('auto-submitted')).toBe('auto-generated');
      expect(head.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(Buffer.from(decodeQuotedPrintable(Buffer.from(body))).toString('utf8')).toBe(`${text.replace(/\n/g, '\r\n')}\r\n`);

      const dropped = lines.filter((l) => String(l.msg).startsWith('notice not'));
      expect(dropped.map((l) => l.msg).sort()).toEqual([
        'notice not forwarded to remote alias targets',
        'notice not sent: no such local mailbox',
        'notice not sent: not a local domain',
        'notice not sent: not an address',
      ]);
    } finally {
      await store.close();
    }
  });

  it('logs and swallows a spool failure; notify never throws; postmaster falls back to the first local domain', async () => {
    const store = await openStore({ backend: 'sqlite', dataDir: mkdtempSync(path.join(tmpdir(), 'postern-notice-')) });
    try {
      const d = store.meta.directory;
      await d.addDomain('zeta.test', 1);
      await d.addDomain('alpha.test', 1);
      await d.addAccount({ address: 'ann@zeta.test', passwordHash: 'x' }, 1);
      const clock = new ManualClock(1_000_000);
      const { lines, log } = logs();
      const broken = { accept: () => Promise.reject(new Error('disk gone')) } as unknown as Spool;
      const failing = new NoticeSender({ spool: broken, directory: new Directory(d), hostname: 'mx.elsewhere.test', clock, log });
      expect(() => failing.notify('Q2', [{ to: 'ann@zeta.test', subject: 's', text: 't' }])).not.toThrow();
      await failing.idle();
      expect(lines.some((l) => l.msg === 'notice could not be queued' && l.queueId === 'Q2')).toBe(true);

      const spool = new Spool(store.blobs, store.meta.queue, clock);
      const ok = new NoticeSender({ spool, directory: new Directory(d), hostname: 'mx.elsewhere.test', clock, log });
      ok.notify('Q3', [{ to: 'ann@zeta.test', subject: 's', text: 't' }]);
      await ok.idle();
      const [r] = await store.meta.queue.listPending();
      const raw = Buffer.from(await store.blobs.get((await store.meta.queue.getMessage(r!.queueId))!.blobId)).toString();
      expect(split(raw).head.get('from')).toBe('"postern" <postmaster@alpha.test>');
    } finally {
      await store.close();
    }
  });

  it('builds a bounded, well-formed message for any subject and text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 2000 }), (subject, text) => {
        const raw = buildNotice({ from: 'postmaster@example.test', to: 'a@example.test', subject, text, about: 'Q1', now: 0, hostname: 'mail.example.test' }).toString('utf8');
        expect(raw).not.toMatch(/[^\r]\n|\r(?!\n)/);
        for (const line of raw.split('\r\n')) expect(line.length).toBeLessThanOrEqual(78);
        expect(raw).toMatch(/^[\t\r\n -~]*$/); // 7-bit on the wire
        const { head, body } = split(raw);
        expect(decodeEncodedWords(head.get('subject')!).length).toBeGreaterThan(0);
        const decoded = Buffer.from(decodeQuotedPrintable(Buffer.from(body))).toString('utf8');
        // The text comes back whole: line ends as CRLF, controls other than tab removed.
        // eslint-disable-next-line no-control-regex -- removing control characters is the point
        const expected = text.replace(/\r\n?|\n/g, '\n').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '').replace(/\n/g, '\r\n');
        expect(decoded).toBe(`${Buffer.from(expected, 'utf8').toString('utf8')}\r\n`);
      }),
    );
    const long = buildNotice({ from: 'p@x.test', to: 'a@x.test', subject: 's', text: 'z'.repeat(100_000), about: 'Q', now: 0, hostname: 'h' });
    expect(long.length).toBeLessThan(20_000);
    expect(quotedPrintable('a = b \r\nc\t')).toBe('a =3D b=20\r\nc=09');
  });
});
