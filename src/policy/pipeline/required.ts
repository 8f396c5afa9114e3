/**
 * Mail to the required addresses (postmaster@ of a local domain, RFC 5321
 * 4.5.1; abuse@, RFC 2142; the report addresses) is never refused by sender
 * authentication: whoever runs a forged or misconfigured domain must still be
 * able to reach the postmaster. A stage wrapped here that would reject holds
 * the message in quarantine instead when some recipients are ordinary (so
 * adding postmaster@ to a forged message gets it to nobody else), and files
 * it in the Junk folder, marked, when every recipient is a required address.
 */
import type { Verdict } from '../../core/verdict.js';
import type { MessageEnvelope, Stage } from './stage.js';

/** Whether a RCPT TO address (as given) is a required address; the domainless "postmaster" is. */
export type RequiredAddress = (address: string) => Promise<boolean>;

const NOTE = 'a required address (postmaster@) is never refused by sender authentication';

/** How many of the envelope's recipients are required addresses: 'all', 'some' or 'none'. */
async function requiredShare(envelope: MessageEnvelope, isRequired: RequiredAddress): Promise<'all' | 'some' | 'none'> {
  let n = 0;
  for (const r of envelope.recipients) if (r.toLowerCase() === 'postmaster' || (await isRequired(r))) n++;
  return n === 0 ? 'none' : n === envelope.recipients.length ? 'all' : 'some';
}

/** The verdict with a reject turned into Junk (every recipient required) or a hold (some). */
export function softened(v: Verdict, share: 'all' | 'some'): Verdict {
  const { reply: _reply, ...rest } = v;
  const reasons = [...v.reasons, { rule: 'required-address', detail: share === 'all' ? `${NOTE}: filed as junk` : `${NOTE}: held` }];
  return share === 'all' ? { ...rest, action: 'tag', junk: true, reasons } : { ...rest, action: 'hold', reasons };
}

/** The stage, except that its rejects of mail to a required address become Junk or a hold. */
export function exemptRequired(stage: Stage, isRequired: RequiredAddress): Stage {
  return {
    ...stage,
    async run(input, ctx) {
      const v = await stage.run(input, ctx);
      if (v.action !== 'reject') return v;
      const share = await requiredShare(input.envelope, isRequired);
      return share === 'none' ? v : softened(v, share);
    },
  };
}
