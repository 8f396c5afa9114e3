import { describe, expect, it } from 'vitest';
import { passVerdict, type Verdict } from '../../core/verdict.js';
import { PolicyPipeline, directionOf } from './pipeline.js';
import { formatField, insertBelowTrace } from './apply.js';
import type { ConfiguredStage } from './run.js';
import type { Stage, StageInput } from './stage.js';

const env = { sender: 's@out.test', recipients: ['u@example.org'], helo: 'out.test', clientAddress: '192.0.2.1', listener: 'mx' as const, authUser: null, tls: false };
const msg = Buffer.from('Received: x\r\nFrom: a@out.test\r\n\r\nbody\r\n');
const input = (raw: Uint8Array = msg): Omit<StageInput, 'earlier'> => ({ queueId: 'Q1', raw, envelope: env, direction: 'inbound' });

function stage(name: string, run: Stage['run'], phase: Stage['phase'] = 'inline'): Stage {
  return { name, phase, directions: ['inbound'], run };
}
const conf = (s: Stage, budgetMs = 200, failOpen = false): ConfiguredStage => ({ stage: s, settings: { budgetMs, failOpen } });
const verdict = (stageName: string, action: Verdict['action'], extra: Partial<Verdict> = {}): Verdict => ({ ...passVerdict(stageName), action, ...extra });

function sink() {
  const got: [string, string, Record<string, unknown>][] = [];
  return { got, record: (k: string, s: string, d: Record<string, unknown>) => void got.push([k, s, d]) };
}

describe('policy pipeline', () => {
  it('fails closed when a stage throws or hangs past its budget, and later stages do not run', async () => {
    let ranAfter = false;
    const events = sink();
    const throws = new PolicyPipeline([conf(stage('boom', () => Promise.reject(new Error('engine exploded')))), conf(stage('after', async () => ((ranAfter = true), passVerdict('after'))))], { now: Date.now, events });
    const d = await throws.inline(input());
    expect(d).toMatchObject({ kind: 'refuse', code: 451 });
    expect(d.verdicts[0]).toMatchObject({ stage: 'boom', action: 'tempfail', reasons: [{ rule: 'fail-closed:error', detail: 'engine exploded' }] });
    expect(ranAfter).toBe(false);
    expect(events.got).toEqual([['policy.stage_failed', 'Q1', { stage: 'boom', cause: 'error', action: 'tempfail' }]]);

    let aborted = false;
    const hangs = new PolicyPipeline(
      [conf(stage('hang', (_i, ctx) => new Promise(() => ctx.signal.addEventListener('abort', () => (aborted = true)))), 50)],
      { now: Date.now },
    );
    const h = await hangs.inline(input());
    expect(h).toMatchObject({ kind: 'refuse', code: 451, verdicts: [{ action: 'tempfail', reasons: [{ rule: 'fail-closed:timeout' }] }] });
    expect(aborted).toBe(true);
  });

  it('passes a failing stage only when it is configured to fail open, and says so', async () => {
    const p = new PolicyPipeline([conf(stage('boom', () => Promise.reject(new Error('down'))), 100, true)], { now: Date.now });
    const d = await p.inline(input());
    expect(d).toMatchObject({ kind: 'accept', route: 'deliver', verdicts: [{ action: 'pass', reasons: [{ rule: 'fail-open:error' }] }] });
  });

  it('refuses with the stage reply, holds into quarantine, routes to scanning when an after-queue stage applies', async () => {
    const reject = new PolicyPipeline([conf(stage('auth', async () => verdict('auth', 'reject', { reply: '5.7.1 DMARC policy of out.test says reject' })))], { now: Date.now });
    expect(await reject.inline(input())).toMatchObject({ kind: 'refuse', code: 550, text: '5.7.1 DMARC policy of out.test says reject' });
    const hold = new PolicyPipeline([conf(stage('spoof', async () => verdict('spoof', 'hold', { reasons: [{ rule: 'own-domain', detail: 'forged-from' }] })))], { now: Date.now });
    expect(await hold.inline(input())).toMatchObject({ kind: 'accept', route: { quarantine: { stage: 'spoof', reason: 'own-domain: forged-from' } } });
    const later = new PolicyPipeline([conf(stage('av', async () => passVerdict('av'), 'after-queue'))], { now: Date.now });
    expect(later.hasAfterQueue('inbound')).toBe(true);
    expect(later.hasAfterQueue('outbound')).toBe(false);
    expect(await later.inline(input())).toMatchObject({ kind: 'accept', route: 'scan', verdicts: [] });
  });

  it('prepends the header fields stages ask for, sanitizes first, and lets later stages read earlier verdicts', async () => {
    let seen: readonly Verdict[] = [];
    let seenRaw = '';
    const p = new PolicyPipeline(
      [
        conf(stage('auth', async (i) => ((seenRaw = Buffer.from(i.raw).toString()), verdict('auth', 'pass', { headers: [['Authentication-Results', 'mx.example.org; spf=pass']], facts: { dmarc: 'pass' } })))),
        conf(stage('spoof', async (i) => ((seen = i.earlier), verdict('spoof', 'tag', { headers: [['X-Postern-Spoof', 'x\r\nInjected: yes']] })))),
      ],
      { now: Date.now, sanitize: (raw) => Buffer.from(Buffer.from(raw).toString().replace('Received: x\r\n', '')) },
    );
    const d = await p.inline(input());
    expect(seenRaw.startsWith('From:')).toBe(true);
    expect(seen.map((v) => v.facts)).toEqual([{ dmarc: 'pass' }]);
    expect(d.kind).toBe('accept');
    if (d.kind !== 'accept') return;
    expect(Buffer.from(d.data).toString()).toBe('Authentication-Results: mx.example.org; spf=pass\r\nX-Postern-Spoof: x Injected: yes\r\nFrom: a@out.test\r\n\r\nbody\r\n');
    // Our own trace field stays first; what the stages add goes right below it.
    expect(insertBelowTrace(Buffer.from('Received: from a\r\n\tby b\r\nFrom: x\r\n\r\n'), Buffer.from('A-R: 1\r\n')).toString()).toBe(
      'Received: from a\r\n\tby b\r\nA-R: 1\r\nFrom: x\r\n\r\n',
    );
  });

  it('after-queue: tempfail retries, reject becomes a hold (the mail is acknowledged already)', async () => {
    const retry = new PolicyPipeline([conf(stage('av', () => Promise.reject(new Error('clamd down')), 'after-queue'))], { now: Date.now });
    expect(await retry.afterQueue(input(), [])).toMatchObject({ kind: 'retry', error: 'av: fail-closed:error' });
    const rej = new PolicyPipeline([conf(stage('av', async () => verdict('av', 'reject', { reasons: [{ rule: 'malware', signature: 'Eicar' }] }), 'after-queue'))], { now: Date.now });
    expect(await rej.afterQueue(input(), [])).toMatchObject({ kind: 'done', next: { quarantine: { stage: 'av', reason: 'malware' } }, data: null });
  });

  it('folds long header values and knows the direction of a message', () => {
    const f = formatField('Authentication-Results', `mx.example.org; ${'dkim=pass header.d=example.org; '.repeat(5)}`);
    for (const line of f.split('\r\n').filter(Boolean)) expect(line.length).toBeLessThanOrEqual(80);
    expect(f.endsWith('\r\n')).toBe(true);
    expect(directionOf('mx', true)).toBe('inbound');
    expect(directionOf('submission', true)).toBe('outbound');
    expect(directionOf('submissions', false)).toBe('internal');
  });
});

describe('policy pipeline: effects a stage asks for (queue meta, notices, subject tag)', () => {
  const notices = () => {
    const got: [string, string[]][] = [];
    return { got, notify: (id: string, n: readonly { to: string }[]) => void got.push([id, n.map((x) => x.to)]) };
  };
  const note = (to: string) => ({ to, subject: 'Your message', text: 'held' });

  it('merges the verdicts\' meta: later stages win, a TLS floor only goes up, session keys and bad values are dropped', async () => {
    const p = new PolicyPipeline(
      [
        conf(stage('a', async () => verdict('a', 'pass', { meta: { tlsFloor: 'verify', dlp: 'card', n: 1 } }))),
        conf(stage('b', async () => verdict('b', 'pass', { meta: { tlsFloor: 'encrypt', dlp: 'legal', listener: 'mx', requireTls: false, rcptTo: 'x' } }))),
        conf(stage('c', async () => verdict('c', 'pass', { meta: { tlsFloor: 'bogus', n: Number.NaN } }))),
      ],
      { now: Date.now },
    );
    const d = await p.inline(input());
    expect(d).toMatchObject({ kind: 'accept' });
    if (d.kind === 'accept') expect(d.meta).toEqual({ tlsFloor: 'verify', dlp: 'legal', n: 1 });
    // After the queue the stored floor counts: a milder one is left out, a stricter one is kept.
    const after = (floor: string) => new PolicyPipeline([conf(stage('dlp', async () => verdict('dlp', 'pass', { meta: { tlsFloor: floor } }), 'after-queue'))], { now: Date.now });
    expect(await after('encrypt').afterQueue(input(), [], { tlsFloor: 'verify' })).toMatchObject({ kind: 'done', meta: {} });
    expect(await after('verify').afterQueue(input(), [], { tlsFloor: 'encrypt' })).toMatchObject({ kind: 'done', meta: { tlsFloor: 'verify' } });
  });

  it('sends notices on reject, leaves accept and scans to the caller (once durable), never on tempfail, and survives a throwing notifier', async () => {
    const n = notices();
    const rejects = new PolicyPipeline([conf(stage('dlp', async () => verdict('dlp', 'reject', { notices: [note('s@example.org')] })))], { now: Date.now, notify: n.notify });
    expect(await rejects.inline(input())).toMatchObject({ kind: 'refuse', code: 550 });
    expect(n.got).toEqual([['Q1', ['s@example.org']]]);

    const tempfails = new PolicyPipeline(
      [conf(stage('dlp', async () => verdict('dlp', 'pass', { notices: [note('a@example.org')] }))), conf(stage('av', () => Promise.reject(new Error('down'))))],
      { now: Date.now, notify: n.notify },
    );
    expect(await tempfails.inline(input())).toMatchObject({ kind: 'refuse', code: 451 });
    const retry = new PolicyPipeline([conf(stage('dlp', async () => verdict('dlp', 'tempfail', { notices: [note('b@example.org')] }), 'after-queue'))], { now: Date.now, notify: n.notify });
    expect(await retry.afterQueue(input(), [])).toMatchObject({ kind: 'retry' });
    expect(n.got).toHaveLength(1);

    const accepts = new PolicyPipeline([conf(stage('dlp', async () => verdict('dlp', 'tag', { notices: [note('m@example.org'), note('s@example.org')] })))], { now: Date.now, notify: n.notify });
    const d = await accepts.inline(input());
    expect(n.got).toHaveLength(1);
    accepts.notify('Q1', d.verdicts);
    expect(n.got[1]).toEqual(['Q1', ['m@example.org', 's@example.org']]);

    const broken = new PolicyPipeline([conf(stage('dlp', async () => verdict('dlp', 'reject', { notices: [note('s@example.org')] })))], {
      now: Date.now,
      notify: () => {
        throw new Error('spool down');
      },
    });
    expect(await broken.inline(input())).toMatchObject({ kind: 'refuse', code: 550 });
  });

  it('tags the subject once, with the first tag asked for, and adds a Subject when there is none', async () => {
    const tagging = (...tags: (string | undefined)[]) =>
      new PolicyPipeline(
        tags.map((t, i) => conf(stage(`s${i}`, async () => verdict(`s${i}`, 'tag', t === undefined ? {} : { subjectTag: t })))),
        { now: Date.now },
      );
    const accepted = async (p: PolicyPipeline, raw: Buffer) => {
      const d = await p.inline(input(raw));
      if (d.kind !== 'accept') throw new Error(d.kind);
      return Buffer.from(d.data).toString();
    };
    const withSubject = Buffer.from('Received: x\r\nSubject: Q3 numbers\r\nFrom: a@out.test\r\n\r\nbody\r\n');
    expect(await accepted(tagging(undefined, '[Confidential]', '[Other]'), withSubject)).toBe('Received: x\r\nSubject: [Confidential] Q3 numbers\r\nFrom: a@out.test\r\n\r\nbody\r\n');
    const tagged = Buffer.from('Received: x\r\nSubject: [confidential] Q3\r\n\r\nbody\r\n');
    const same = await tagging('[Confidential]').inline(input(tagged));
    expect(same).toMatchObject({ kind: 'accept' });
    if (same.kind === 'accept') expect(same.data).toBe(tagged); // nothing to rewrite: no copy either
    expect(await accepted(tagging('[Conf\r\nBcc: x@evil.test]'), msg)).toBe('Received: x\r\nSubject: [Conf Bcc: x@evil.test]\r\nFrom: a@out.test\r\n\r\nbody\r\n');
    // A refused message is not rewritten; an encoded-word subject gets the tag as ASCII before it.
    const encoded = Buffer.from('Subject: =?UTF-8?B?w6RiYw==?=\r\n\r\nx\r\n');
    expect(await accepted(tagging('[Secret]'), encoded)).toBe('Subject: [Secret] =?UTF-8?B?w6RiYw==?=\r\n\r\nx\r\n');
  });
});

describe('policy pipeline: encryption a verdict asks for', () => {
  const CERT = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x07]);
  const secret = Buffer.from('Received: x\r\nFrom: a@example.org\r\nSubject: cards\r\n\r\ncard 4111 1111 1111 1111\r\n');
  const asks = (extra: Partial<Verdict> = {}) =>
    conf(stage('dlp', async () => verdict('dlp', 'tag', { headers: [['X-Postern-DLP', 'encrypted (rule payment-cards)']], encryptTo: [CERT], subjectTag: '[Conf]', ...extra })));
  const after = (extra: Partial<Verdict> = {}) =>
    conf(stage('dlp', async () => verdict('dlp', 'tag', { headers: [['X-Postern-DLP', 'encrypted (rule payment-cards)']], encryptTo: [CERT], ...extra }), 'after-queue'));
  /** A stand-in encryptor: what it was given is kept, and the "sealed" form hides the body. */
  function sealer() {
    const seen: { raw: string; certs: readonly Uint8Array[] }[] = [];
    const encrypt = async (raw: Uint8Array, certs: readonly Uint8Array[]) => {
      seen.push({ raw: Buffer.from(raw).toString('latin1'), certs });
      return Buffer.from('Received: x\r\nFrom: a@example.org\r\nMIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=authEnveloped-data\r\n\r\nSEALED\r\n');
    };
    return { seen, encrypt };
  }
  const text = (d: { data: Uint8Array | null }) => Buffer.from(d.data ?? new Uint8Array(0)).toString('latin1');

  it('encrypts after the subject tag and before our header fields, which stay below the trace field in clear', async () => {
    const s = sealer();
    const events = sink();
    const d = await new PolicyPipeline([asks()], { now: Date.now, encrypt: s.encrypt, events }).inline(input(secret));
    expect(d.kind).toBe('accept');
    if (d.kind !== 'accept') return;
    expect(s.seen).toHaveLength(1);
    expect(s.seen[0]?.raw).toContain('Subject: [Conf] cards'); // the tag is inside what the recipient decrypts
    expect(s.seen[0]?.raw).not.toContain('X-Postern-DLP'); // our fields are added outside
    expect(s.seen[0]?.certs).toEqual([CERT]);
    const out = text(d);
    expect(out).toBe('Received: x\r\nX-Postern-DLP: encrypted (rule payment-cards)\r\nFrom: a@example.org\r\nMIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=authEnveloped-data\r\n\r\nSEALED\r\n');
    expect(out).not.toContain('4111');
    // The certificates are used up: not kept with the queue entry's verdicts.
    expect(d.verdicts[0]?.encryptTo).toBeUndefined();
    expect(d.verdicts[0]?.facts).toMatchObject({ encrypted_to: 1 });
    expect(events.got.filter(([k]) => k === 'policy.encrypt_failed')).toEqual([]);
  });

  it('answers 451 in-line, never the clear message, when the encryptor fails, is missing, gives nothing or takes too long', async () => {
    const failing = async () => {
      throw new Error('worker died');
    };
    const hanging = (_r: Uint8Array, _c: readonly Uint8Array[], signal: AbortSignal) => new Promise<Uint8Array>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    const cases: [string, Partial<ConstructorParameters<typeof PolicyPipeline>[1]>, RegExp][] = [
      ['failing', { encrypt: failing }, /encryption failed: worker died/],
      ['missing', {}, /no encryptor is configured/],
      ['empty', { encrypt: async () => new Uint8Array(0) }, /gave no encrypted message/],
      ['unchanged', { encrypt: async (raw: Uint8Array) => raw }, /gave no encrypted message/],
      ['hanging', { encrypt: hanging, encryptBudgetMs: 50 }, /longer than 50 ms/],
    ];
    for (const [what, opts, reason] of cases) {
      const events = sink();
      const d = await new PolicyPipeline([asks()], { now: Date.now, events, ...opts }).inline(input(secret));
      expect(d, what).toMatchObject({ kind: 'refuse', code: 451, text: '4.7.0 Message could not be encrypted as policy requires, try again later' });
      expect(JSON.stringify(d), what).not.toContain('4111');
      const failed = events.got.find(([k]) => k === 'policy.encrypt_failed');
      expect(failed?.[2], what).toMatchObject({ phase: 'inline', reason: expect.stringMatching(reason) });
    }
  });

  it('after the queue: encrypts, or retries when the encryptor fails (no data to deliver)', async () => {
    const s = sealer();
    const ok = await new PolicyPipeline([after()], { now: Date.now, encrypt: s.encrypt }).afterQueue(input(secret), []);
    expect(ok).toMatchObject({ kind: 'done', next: 'deliver' });
    expect(text(ok as { data: Uint8Array | null })).toContain('SEALED');
    const bad = await new PolicyPipeline([after()], { now: Date.now, encrypt: async () => Promise.reject(new Error('pool closed')) }).afterQueue(input(secret), []);
    expect(bad).toMatchObject({ kind: 'retry', error: 'policy: encryption failed: pool closed' });
    expect(bad).not.toHaveProperty('data');
  });

  it('encrypts a held message too (the quarantine keeps what would leave), and does nothing for verdicts that do not ask', async () => {
    const s = sealer();
    const held = await new PolicyPipeline([asks(), conf(stage('spoof', async () => verdict('spoof', 'hold')))], { now: Date.now, encrypt: s.encrypt }).inline(input(secret));
    expect(held).toMatchObject({ kind: 'accept', route: { quarantine: { stage: 'spoof' } } });
    expect(text(held as { data: Uint8Array })).toContain('SEALED');
    const plain = await new PolicyPipeline([conf(stage('dlp', async () => verdict('dlp', 'tag', { headers: [['X-Postern-DLP', 'payment-cards']] })))], { now: Date.now, encrypt: s.encrypt }).inline(input(secret));
    expect(text(plain as { data: Uint8Array })).toContain('4111');
    expect(s.seen).toHaveLength(1);
  });

  it('runs the after-queue stages in-line on the clear message before encrypting, and delivers without a later scan', async () => {
    const s = sealer();
    const scanned: string[] = [];
    const malware = (action: Verdict['action']) =>
      conf(stage('malware', async (i) => (scanned.push(Buffer.from(i.raw).toString('latin1')), verdict('malware', action, action === 'reject' ? { reply: '5.7.1 infected' } : {})), 'after-queue'));
    const ok = await new PolicyPipeline([asks(), malware('pass')], { now: Date.now, encrypt: s.encrypt }).inline(input(secret));
    expect(scanned).toHaveLength(1);
    expect(scanned[0]).toContain('card 4111 1111 1111 1111'); // the scanner saw the clear text
    expect(ok).toMatchObject({ kind: 'accept', route: 'deliver' });
    expect(ok.verdicts.map((v) => v.stage)).toEqual(['dlp', 'malware']);
    expect(s.seen).toHaveLength(1);
    // What the scanner refuses is refused in-line, and nothing is encrypted.
    const s2 = sealer();
    const bad = await new PolicyPipeline([asks(), malware('reject')], { now: Date.now, encrypt: s2.encrypt }).inline(input(secret));
    expect(bad).toMatchObject({ kind: 'refuse', code: 550, text: '5.7.1 infected' });
    expect(s2.seen).toEqual([]);
    // Without a request to encrypt, the after-queue stages wait for the queue as before.
    const plain = await new PolicyPipeline([conf(stage('dlp', async () => verdict('dlp', 'pass'))), malware('pass')], { now: Date.now }).inline(input(secret));
    expect(plain).toMatchObject({ kind: 'accept', route: 'scan' });
    expect(scanned).toHaveLength(2);
  });
});
