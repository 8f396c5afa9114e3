import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../core/verdict.js';
import { exemptRequired } from './required.js';
import type { Stage, StageInput } from './stage.js';

const reject: Verdict = { stage: 'auth', action: 'reject', reasons: [{ rule: 'dmarc-reject', detail: 'forged.test p=reject' }], headers: [], events: [], reply: '5.7.1 Message rejected by the DMARC policy of forged.test' };
const stage = (v: Verdict): Stage => ({ name: 'auth', phase: 'inline', directions: ['inbound'], run: async () => v });
const input = (recipients: string[]): StageInput => ({
  queueId: 'q',
  raw: Buffer.from('From: x@forged.test\r\n\r\n'),
  envelope: { sender: 'x@forged.test', recipients, helo: null, clientAddress: '192.0.2.1', listener: 'mx', authUser: null, tls: false },
  direction: 'inbound',
  earlier: [],
});
const ctx = { signal: new AbortController().signal, now: () => 0 };
// postmaster@ and abuse@ at example.test are required; everything else is ordinary.
const isRequired = async (a: string) => /^(postmaster|abuse)@example\.test$/i.test(a);

describe('required addresses are never refused by sender authentication', () => {
  it('files a reject as junk when every recipient is a required address (the domainless postmaster too)', async () => {
    const v = await exemptRequired(stage(reject), isRequired).run(input(['PostMaster@example.test', 'postmaster']), ctx);
    expect(v.action).toBe('tag');
    expect(v.junk).toBe(true);
    expect(v.reply).toBeUndefined();
    expect(v.reasons.at(-1)).toMatchObject({ rule: 'required-address' });
  });

  it('holds it when ordinary recipients are in the same transaction, so adding postmaster@ gets a forgery to nobody', async () => {
    const v = await exemptRequired(stage(reject), isRequired).run(input(['bob@example.test', 'abuse@example.test']), ctx);
    expect(v.action).toBe('hold');
    expect(v.reply).toBeUndefined();
  });

  it('leaves other recipients and other actions alone', async () => {
    expect(await exemptRequired(stage(reject), isRequired).run(input(['bob@example.test']), ctx)).toBe(reject);
    const tempfail: Verdict = { ...reject, action: 'tempfail', reply: '4.7.5 try later' };
    expect(await exemptRequired(stage(tempfail), isRequired).run(input(['postmaster@example.test']), ctx)).toBe(tempfail);
  });
});
