/**
 * Internationalised mail in the queue (RFC 6531): `meta.smtputf8` is true
 * when the client's MAIL carried SMTPUTF8. Kept in the entry's meta like the
 * DSN request (dsn-meta.ts), so no schema change is needed. A message needs
 * SMTPUTF8 from the next hop when the flag is set and a UTF-8 address is in
 * its envelope or its address header fields; other 8-bit headers alone
 * (a UTF-8 Subject) travel under 8BITMIME, as postern never downgrades.
 */
import { getFields, parseAddressList, parseHeaderSection } from '../codec/mime/index.js';
import { isAscii } from '../core/address.js';

/** Header fields whose addresses a receiver would have to deliver to or reply to. */
const ADDRESS_FIELDS = ['from', 'sender', 'reply-to', 'to', 'cc', 'bcc', 'resent-from', 'resent-sender', 'resent-to', 'resent-cc'];

/** Whether the client asked for SMTPUTF8 (meta is JSON from the store: anything but `true` is no). */
export function smtputf8Of(meta: Readonly<Record<string, unknown>>): boolean {
  return meta.smtputf8 === true;
}

/** Whether any address in the message's address header fields is not ASCII. */
export function headerHasUtf8Address(message: Buffer): boolean {
  const section = parseHeaderSection(message);
  for (const name of ADDRESS_FIELDS) {
    for (const f of getFields(section.fields, name)) {
      if (isAscii(f.value)) continue;
      const list = parseAddressList(f.value);
      if (list.some((a) => !isAscii(a.address) || (a.group ?? []).some((m) => !isAscii(m.address)))) return true;
    }
  }
  return false;
}

/** Whether relaying this message needs a peer that offers SMTPUTF8. */
export function needsSmtputf8(meta: Readonly<Record<string, unknown>>, sender: string, recipients: readonly string[], message: Buffer): boolean {
  if (!smtputf8Of(meta)) return false;
  if (!isAscii(sender) || recipients.some((r) => !isAscii(r))) return true;
  return headerHasUtf8Address(message);
}
