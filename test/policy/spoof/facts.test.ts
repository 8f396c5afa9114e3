import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detect, extractFacts } from '../../../src/policy/spoof/index.js';
import type { MessageFacts } from '../../../src/policy/spoof/index.js';
import { basicHeaders, CTX, inbound, message } from './helpers.js';

/** Everything in the facts is bounded, whatever the input. */
function expectBounded(f: MessageFacts): void {
  expect(f.bodyText.length).toBeLessThanOrEqual(64 * 1024);
  expect(f.subject?.length ?? 0).toBeLessThanOrEqual(1000);
  for (const field of [f.from, f.sender, f.replyTo]) {
    if (!field) continue;
    expect(field.mailboxes.length).toBeLessThanOrEqual(50);
    for (const m of field.mailboxes) {
      expect(m.name.length).toBeLessThanOrEqual(256);
      expect(m.nameAddresses.length).toBeLessThanOrEqual(3);
    }
  }
  expect(JSON.stringify(f).length).toBeLessThan(200_000);
  // Plain data: survives a structured clone unchanged.
  expect(structuredClone(f)).toEqual(f);
}

describe('extractFacts', () => {
  it('records the sender fields, list markers and the decoded subject', () => {
    const raw = message([
      'Return-Path: <Bounce@Lists.Example.org>',
      'From: "Doe, Jane" <Jane.Doe@Example.TEST>',
      'Sender: list-owner@lists.example.org',
      'Reply-To: list@lists.example.org',
      'To: a@b.test',
      'Subject: =?iso-8859-1?q?Gr=FC=DFe?=',
      'Message-ID: <x@y>',
      'List-Id: Example <list.lists.example.org>',
      'List-Unsubscribe: <mailto:leave@lists.example.org>',
      'Precedence: Bulk',
      'Auto-Submitted: auto-generated',
    ]);
    const f = extractFacts(raw);
    expect(f.from.count).toBe(1);
    expect(f.from.mailboxes).toEqual([{ name: 'Doe, Jane', nameEncoded: false, nameAddresses: [], address: 'jane.doe@example.test', domain: 'example.test' }]);
    expect(f.sender?.mailboxes[0]?.address).toBe('list-owner@lists.example.org');
    expect(f.replyTo?.mailboxes[0]?.address).toBe('list@lists.example.org');
    expect(f.returnPath).toBe('bounce@lists.example.org');
    expect(f.subject).toBe('Grüße');
    expect(f.messageId).toBe('<x@y>');
    expect(f.hasDate).toBe(false);
    expect(f.listId).toBe('Example <list.lists.example.org>');
    expect(f.listUnsubscribe).toBe(true);
    expect(f.precedence).toBe('bulk');
    expect(f.autoSubmitted).toBe('auto-generated');
    expect(f.duplicates).toEqual([]);
  });

  it('takes the body from the first text/plain and text/html parts, not from attachments', () => {
    const body = [
      '--b', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64', '',
      Buffer.from('Plain words über alles').toString('base64'),
      '--b', 'Content-Type: text/plain', 'Content-Disposition: attachment; filename=a.txt', '', 'ATTACHED TEXT',
      '--b', 'Content-Type: text/html', '', '<html><head><style>p{}</style></head><body><p>Html&nbsp;words &amp; more</p></body></html>',
      '--b--', '',
    ].join('\r\n');
    const f = extractFacts(message([...basicHeaders('a@b.test'), 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary=b'], body));
    expect(f.bodyText).toContain('Plain words über alles');
    expect(f.bodyText).toContain('Html words & more');
    expect(f.bodyText).not.toContain('ATTACHED');
    expect(f.bodyText).not.toContain('p{}');
  });

  it('caps body text', () => {
    const f = extractFacts(message(basicHeaders('a@b.test'), 'word '.repeat(100_000)), { maxBodyChars: 1000 });
    expect(f.bodyText.length).toBe(1000);
  });

  it('reads only the start of a 1 MB From field and says it is too long', () => {
    const huge = `From: ${'"x" <a@b.test>, '.repeat(63_000)}c@d.test`;
    expect(huge.length).toBeGreaterThan(1_000_000);
    const raw = message([huge, 'To: a@b.test', 'Subject: s']);
    const f = extractFacts(raw);
    expect(f.from.problems).toContain('too-long');
    expect(f.from.rawLength).toBeGreaterThan(1_000_000);
    expectBounded(f);
    const findings = detect(f, inbound('a@b.test'), CTX);
    expect(findings.map((x) => x.result)).toContain('oversized');
  });

  it('stops at the header limit', () => {
    const raw = message([...Array.from({ length: 3000 }, (_, i) => `X-Pad-${i}: ${'p'.repeat(400)}`), 'From: late@b.test']);
    const f = extractFacts(raw);
    expect(f.headerTruncated).toBe(true);
    expect(f.from.count).toBe(0);
  });

  it('never throws and stays bounded on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4000 }), (bytes) => {
        const f = extractFacts(bytes);
        expectBounded(f);
        detect(f, inbound('x@y.test'), CTX);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on hostile header text', () => {
    const piece = fc.constantFrom('From: ', 'Sender: ', 'Reply-To: ', '"', '<', '>', '@', ',', ';', ':', '(', ')', '\\', '=?utf-8?b?', '=?x?q?', '?=', '\r\n', '\r\n ', '\u0000', '\u202e', 'xn--', 'е', 'a', '.', ' ');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 400 }), (pieces) => {
        const f = extractFacts(Buffer.from(`From: ${pieces.join('')}\r\n\r\nbody`, 'utf8'));
        expectBounded(f);
        detect(f, inbound(pieces.join('').slice(0, 100)), CTX);
      }),
      { numRuns: 300 },
    );
  });

  it('handles pathological repetition in linear time (no catastrophic regex)', () => {
    const nasty = [
      `From: ${'('.repeat(200_000)}`,
      `From: ${'=?'.repeat(200_000)}`,
      `From: "${'a@'.repeat(100_000)}" <x@y.test>`,
      `From: ${'<'.repeat(200_000)}x@y.test`,
    ];
    for (const h of nasty) {
      const f = extractFacts(message([h, 'Subject: =?utf-8?q?' + '=3D'.repeat(50_000) + '?=']));
      expectBounded(f);
      detect(f, inbound('x@y.test'), CTX);
    }
    for (const html of ['<'.repeat(250_000), '&'.repeat(250_000), '<script>'.repeat(30_000), '<!--'.repeat(60_000), '&#'.repeat(120_000), '</'.repeat(120_000)]) {
      const f = extractFacts(message(basicHeaders('a@b.test', ['Content-Type: text/html']), html));
      expectBounded(f);
    }
  });

  it('keeps control characters out of the subject', () => {
    const f = extractFacts(message(['From: a@b.test', 'Subject: a\u0000b\u202ec']));
    expect(f.subject).toBe('abc');
  });
});
