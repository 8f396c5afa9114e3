import { describe, expect, it } from 'vitest';
import { decodePartText, parseMessage } from '../../../src/codec/mime/index.js';
import { addBanner, detect, extractFacts, spoofVerdict } from '../../../src/policy/spoof/index.js';
import { CTX, inbound, message, results } from './helpers.js';

const bec = message(
  ['From: "Jane Doe" <jane.doe@examp1e.test>', 'Reply-To: jane.doe.office@freemail.example', 'To: ap@example.test', 'Subject: Invoice 4711', 'Date: Thu, 03 Dec 2026 10:00:00 +0000', 'Message-ID: <a@examp1e.test>', 'Content-Type: text/plain; charset=utf-8'],
  'Hi,\r\nplease note that our bank details have changed. Use the new IBAN for invoice 4711.\r\nJane\r\n',
);

describe('detect', () => {
  it('sees every sign of a business-email-compromise message', () => {
    const findings = detect(extractFacts(bec), inbound('jane.doe@examp1e.test'), CTX);
    expect(results(findings)).toEqual(['display-name=impersonation', 'lookalike=confusable', 'reply-to=reply-to-other-org', 'bogus-transaction=payment-change']);
    expect(findings.every((f) => f.origin === 'outside')).toBe(true);
  });

  it('runs only the detectors asked for', () => {
    const findings = detect(extractFacts(bec), inbound('jane.doe@examp1e.test'), CTX, ['bogus-transaction']);
    expect(results(findings)).toEqual(['bogus-transaction=payment-change']);
  });

  it('finds nothing in an ordinary message', () => {
    const raw = message(['From: Bob <bob@vendor.test>', 'To: ap@example.test', 'Subject: Lunch', 'Date: Thu, 03 Dec 2026 10:00:00 +0000', 'Message-ID: <b@vendor.test>'], 'Lunch on Friday?\r\n');
    expect(detect(extractFacts(raw), inbound('bob@vendor.test'), CTX)).toEqual([]);
  });

  it('ends in a tagged verdict whose banner goes into the body', () => {
    const v = spoofVerdict(detect(extractFacts(bec), inbound('jane.doe@examp1e.test'), CTX));
    expect(v.action).toBe('tag');
    expect(v.headers).toEqual([['X-Postern-Spoof', 'display-name=impersonation; lookalike=confusable; reply-to=reply-to-other-org; bogus-transaction=payment-change']]);
    expect(v.events).toHaveLength(4);
    const out = addBanner(bec, v.banner!);
    expect(out).not.toBeNull();
    const m = parseMessage(out!);
    const text = decodePartText(m, m.root);
    expect(text.startsWith('CAUTION: this message uses the name "Jane Doe" of a colleague')).toBe(true);
    expect(text).toContain('please note that our bank details have changed');
  });
});
