/**
 * malformed-from: a From field that hides who sent the message: missing,
 * repeated, several mailboxes without Sender, unreadable, oversized, control
 * or bidi characters in the name, an address hidden in an encoded-word, and
 * repeated single-instance fields (RFC 5322 section 3.6) that let two
 * readers show different values.
 */
import type { Reason } from '../../../core/verdict.js';
import type { AddressFieldFact, DetectInput, Finding, MessageFacts, SpoofContext } from '../types.js';
import { originOf } from './common.js';

export function detectMalformedFrom(facts: MessageFacts, input: DetectInput, ctx: SpoofContext): Finding[] {
  const origin = originOf(input, ctx);
  const out: Finding[] = [];
  const add = (result: string, reason: Reason): void => {
    out.push({ detector: 'malformed-from', origin, result, reasons: [reason] });
  };
  const from = facts.from;
  if (from.count === 0) {
    add('no-from', { rule: 'malformed-from.missing', detail: facts.headerTruncated ? 'no From in the first MiB of header' : 'no From field' });
    return out;
  }
  if (from.count > 1) add('multiple-from', { rule: 'malformed-from.repeated', detail: `${from.count} From fields` });
  const sized = (f: AddressFieldFact | null, name: string): void => {
    if (!f) return;
    if (f.problems.includes('too-long') || f.problems.includes('line-too-long')) {
      add('oversized', { rule: 'malformed-from.oversized', detail: `${name}: ${f.rawLength} bytes, longest line ${f.maxLineLength}` });
    }
  };
  sized(from, 'From');
  sized(facts.sender, 'Sender');
  const usable = from.mailboxes.filter((m) => m.address !== '');
  if (usable.length === 0) add('unparseable', { rule: 'malformed-from.unparseable', detail: 'From holds no address' });
  else if (from.problems.includes('group')) add('unparseable', { rule: 'malformed-from.group', detail: 'From holds a group' });
  if (from.mailboxes.length > 1 && (facts.sender === null || facts.sender.mailboxes.length === 0)) {
    add('multiple-mailboxes', { rule: 'malformed-from.no-sender', detail: `${from.mailboxes.length} mailboxes in From and no Sender` });
  }
  if (from.problems.includes('control-chars')) add('control-chars', { rule: 'malformed-from.control', detail: 'control or bidi characters in the From name' });
  if (from.problems.includes('encoded-address')) add('encoded-address', { rule: 'malformed-from.encoded-address', detail: 'an encoded-word in the From name decodes to an address' });
  if (facts.duplicates.length > 0) add('duplicate-field', { rule: 'malformed-from.duplicate', detail: facts.duplicates.join(', ') });
  return out;
}
