/**
 * What a policy verdict asks of the queue entry, end to end through the
 * submission listener and the after-queue scanner: a stage's `tlsFloor`
 * reaches the entry delivery leases (and the floor its session must meet),
 * the session's own meta keys stay the session's, the subject is tagged, and
 * notices are handed out once the message is durable.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { passVerdict, type Notice, type Verdict } from '../../src/core/verdict.js';
import { PolicyScanner } from '../../src/delivery/scanner.js';
import { groupLeases } from '../../src/delivery/outbound/jobs.js';
import { silentLogger } from '../../src/metrics/logger.js';
import { PolicyPipeline, type Stage } from '../../src/policy/pipeline/index.js';
import { startHarness, type Harness } from '../support/harness.js';
import { smtplib } from '../support/smtplib.js';
import type { Lease } from '../../src/store/types.js';

const dlp = (phase: Stage['phase'], extra: Partial<Verdict>): Stage => ({
  name: `dlp-${phase}`,
  phase,
  directions: ['outbound', 'internal'],
  run: async () => ({ ...passVerdict('dlp'), action: 'tag', ...extra }),
});

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function submit(hh: Harness, subject: string) {
  const alice = hh.users.alice;
  const file = await hh.writeFile(`m-${Date.now()}.eml`, `From: ${alice.address}\r\nTo: partner@remote.test\r\nSubject: ${subject}\r\n\r\nPRJ-1234-AB\r\n`);
  return smtplib({ port: hh.ports.submission, mode: 'starttls', ca: hh.caFile, logins: [{ user: alice.address, password: alice.password }], from: alice.address, to: ['partner@remote.test'], msgFile: file });
}

const leaseRemote = (hh: Harness) => hh.store.meta.queue.lease({ transport: 'remote', now: Date.now() + 1000, leaseMs: 60_000, limit: 10 });

describe('verdict effects on the queue entry', () => {
  it('in-line: the TLS floor is leased with the message, session keys win, the subject is tagged, the notice follows the 250', async () => {
    const told: [string, readonly Notice[]][] = [];
    const notice = { to: 'alice@example.test', subject: 'Sent with TLS required', text: 'Your message matched payment-cards.' };
    const stage = dlp('inline', { meta: { tlsFloor: 'verify', listener: 'mx', requireTls: true, dlp: 'payment-cards' }, subjectTag: '[Confidential]', notices: [notice] });
    const policy = new PolicyPipeline([{ stage, settings: { budgetMs: 5000, failOpen: false } }], { now: Date.now, notify: (id, n) => void told.push([id, n]) });
    h = await startHarness({ policy, deliver: false });
    const r = await submit(h, 'Q3 plan');
    expect(r.data?.[0]).toBe(250);
    const queueId = /queued as (\S+)/.exec(r.data?.[1] ?? '')?.[1];
    expect(told).toEqual([[queueId, [notice]]]);
    const [lease] = await leaseRemote(h);
    expect(lease?.message.id).toBe(queueId);
    expect(lease?.message.meta).toMatchObject({ tlsFloor: 'verify', dlp: 'payment-cards', listener: 'submission', requireTls: false });
    expect(groupLeases([lease!], null)[0]?.dest.tlsFloor).toBe('verify');
    const raw = Buffer.from(await h.store.blobs.get(lease!.message.blobId)).toString();
    expect(raw).toContain('\r\nSubject: [Confidential] Q3 plan\r\n');
  });

  it('after the queue: finishScan stores the floor with the verdicts, and the notice is sent once the scan is stored', async () => {
    const told: string[] = [];
    const stage = dlp('after-queue', { meta: { tlsFloor: 'verify' }, notices: [{ to: 'alice@example.test', subject: 's', text: 't' }] });
    const policy = new PolicyPipeline([{ stage, settings: { budgetMs: 5000, failOpen: false } }], { now: Date.now, notify: (id) => void told.push(id) });
    h = await startHarness({ policy, deliver: false });
    const r = await submit(h, 'later');
    expect(r.data?.[0]).toBe(250);
    expect(await leaseRemote(h)).toEqual([]); // waiting for its scan
    expect(told).toEqual([]);
    const scanner = new PolicyScanner(h.store.meta.queue, h.store.blobs, policy, { now: Date.now }, silentLogger(), { batch: 8, leaseMs: 60_000, pollMs: 60_000, retryMinMs: 0, retryMaxMs: 0 });
    expect(await scanner.pass()).toBe(1);
    const [lease] = await leaseRemote(h);
    expect(lease?.message.meta).toMatchObject({ tlsFloor: 'verify', listener: 'submission' });
    expect(lease?.message.verdicts.map((v) => v.stage)).toEqual(['dlp-after-queue']);
    expect(told).toEqual([lease?.message.id]);
  });

  it('after the queue: a taker gets its recipients leased with the stored scan result, and nobody else leases them', async () => {
    const stage = dlp('after-queue', { meta: { tlsFloor: 'verify' } });
    const policy = new PolicyPipeline([{ stage, settings: { budgetMs: 5000, failOpen: false } }], { now: Date.now });
    h = await startHarness({ policy, deliver: false });
    expect((await submit(h, 'handed')).data?.[0]).toBe(250);
    const scanner = new PolicyScanner(h.store.meta.queue, h.store.blobs, policy, { now: Date.now }, silentLogger(), { batch: 8, leaseMs: 60_000, pollMs: 60_000, retryMinMs: 0, retryMaxMs: 0 });
    const handed: Lease[] = [];
    scanner.handOffTo({ transport: 'remote', leaseMs: 60_000, adopt: (leases) => void handed.push(...leases) });
    expect(await scanner.pass()).toBe(1);
    expect(handed).toHaveLength(1);
    expect(handed[0]!.recipient.state).toBe('leased');
    expect(handed[0]!.message.meta).toMatchObject({ tlsFloor: 'verify', listener: 'submission' });
    expect(handed[0]!.message.verdicts.map((v) => v.stage)).toEqual(['dlp-after-queue']);
    expect(await leaseRemote(h)).toEqual([]);
    expect(await h.store.meta.queue.complete(handed[0]!, Date.now())).toBe(true);
  });

  it('after the queue: a batch is scanned at once, so one slow scan does not hold the others', async () => {
    let inFlight = 0;
    let most = 0;
    const stage: Stage = {
      name: 'slow',
      phase: 'after-queue',
      directions: ['outbound', 'internal'],
      run: async () => {
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 200));
        inFlight--;
        return passVerdict('slow');
      },
    };
    const policy = new PolicyPipeline([{ stage, settings: { budgetMs: 5000, failOpen: false } }], { now: Date.now });
    h = await startHarness({ policy, deliver: false });
    for (const n of [1, 2, 3]) expect((await submit(h, `batch ${n}`)).data?.[0]).toBe(250);
    const scanner = new PolicyScanner(h.store.meta.queue, h.store.blobs, policy, { now: Date.now }, silentLogger(), { batch: 4, leaseMs: 60_000, pollMs: 60_000, retryMinMs: 0, retryMaxMs: 0 });
    expect(await scanner.pass()).toBe(3);
    expect(most).toBe(3);
    expect(await leaseRemote(h)).toHaveLength(3);
  });
});
