/** ENVELOPE (RFC 9051 section 7.5.2 / RFC 3501 section 7.4.2). */
import type { AddressData, EnvelopeData } from '../structure.js';
import { adjacent, type ImapValue } from './value.js';

function addressList(list: readonly AddressData[] | null): ImapValue {
  if (list === null || list.length === 0) return null;
  // "(" 1*address ")": addresses follow each other without spaces.
  return [adjacent(list.map((a) => [a.name, a.adl, a.mailbox, a.host]))];
}

const orFrom = (list: readonly AddressData[] | null, from: readonly AddressData[] | null): readonly AddressData[] | null =>
  list === null || list.length === 0 ? from : list;

/**
 * The ENVELOPE value: (date subject from sender reply-to to cc bcc in-reply-to
 * message-id). Sender and Reply-To fall back to From when absent or empty.
 */
export function encodeEnvelope(env: EnvelopeData): ImapValue {
  return [
    env.date,
    env.subject,
    addressList(env.from),
    addressList(orFrom(env.sender, env.from)),
    addressList(orFrom(env.replyTo, env.from)),
    addressList(env.to),
    addressList(env.cc),
    addressList(env.bcc),
    env.inReplyTo,
    env.messageId,
  ];
}
