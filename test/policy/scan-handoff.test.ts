/**
 * Mail that waits for the after-queue scan is stored with the scan already
 * leased to this server's scanner and handed straight to it: no scanner
 * leases it from the store. One the taker never finishes is scanned by any
 * scanner once its lease has run out, as a scan leased from the store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { passVerdict } from '../../src/core/verdict.js';
import { PolicyScanner } from '../../src/delivery/scanner.js';
import { createLogger } from '../../src/metrics/logger.js';
import { PolicyPipeline, type Stage } from '../../src/policy/pipeline/index.js';
import type { ScanLease } from '../../src/store/types.js';
import { startHarness, type Harness } from '../support/harness.js';
import { smtplib } from '../support/smtplib.js';

const scanned: string[] = [];
const avLike: Stage = {
  name: 'av',
  phase: 'after-queue',
  directions: ['inbound'],
  async run(input) {
    scanned.push(input.queueId ?? '');
    return passVerdict('av');
  },
};

let h: Harness | null = null;
let scanner: PolicyScanner | null = null;
afterEach(async () => {
  await scanner?.stop();
  await h?.close();
  scanner = null;
  h = null;
  scanned.length = 0;
});

async function setUp(pollMs: number) {
  const pipeline = new PolicyPipeline([{ stage: avLike, settings: { budgetMs: 1000, failOpen: false } }], { now: Date.now });
  h = await startHarness({ policy: pipeline });
  scanner = new PolicyScanner(h.store.meta.queue, h.store.blobs, pipeline, { now: Date.now }, createLogger('silent'), { batch: 8, leaseMs: 30_000, pollMs, retryMinMs: 0, retryMaxMs: 0 });
  // Counts the scanner's leases from the store.
  const queue = h.store.meta.queue;
  const leaseScan = queue.leaseScan.bind(queue);
  const fromStore: ScanLease[][] = [];
  queue.leaseScan = async (req) => {
    const got = await leaseScan(req);
    fromStore.push(got);
    return got;
  };
  return { h, scanner, fromStore };
}

async function send(harness: Harness, subject: string) {
  const file = await harness.writeFile(`${subject}.eml`, `From: sender@outside.test\r\nTo: alice@example.test\r\nSubject: ${subject}\r\n\r\nhello\r\n`);
  const r = await smtplib({ port: harness.ports.mx, mode: 'plain', ca: harness.caFile, from: 'sender@outside.test', to: ['alice@example.test'], msgFile: file });
  expect(r.data?.[0]).toBe(250);
}

describe('after-queue scans handed from the spool to the scanner', () => {
  it('scans and delivers mail handed over without leasing it from the store', async () => {
    const { h, scanner, fromStore } = await setUp(60_000);
    h.spool.handScansTo(scanner);
    scanner.start();
    await new Promise((r) => setTimeout(r, 50));
    const asked = fromStore.length;
    for (const subject of ['one', 'two', 'three']) await send(h, subject);
    const delivered = await h.waitForInbox(h.users.alice, 3);
    expect(scanned).toHaveLength(3);
    // Only the start's look at the store: none for the three messages.
    expect(fromStore.length).toBe(asked);
    expect(fromStore.flat()).toEqual([]);
    for (const m of delivered) expect((await h.store.meta.verdicts.get(m.blobId))?.verdicts.map((v) => `${v.stage}=${v.action}`)).toEqual(['av=pass']);
  });

  it('leaves a scan its taker never finished to any scanner once the lease has run out', async () => {
    const { h, scanner, fromStore } = await setUp(60_000);
    const dropped: ScanLease[] = [];
    // A taker that dies with what it was handed.
    h.spool.handScansTo({ leaseMs: 300, adopt: (l) => dropped.push(l) });
    await send(h, 'orphan');
    await new Promise((r) => setImmediate(r));
    expect(dropped).toHaveLength(1);
    expect((await h.pending()).map((p) => p.state)).toEqual(['scanning']);
    // Held under the taker's lease: nobody else scans it meanwhile.
    expect(await scanner.pass()).toBe(0);
    expect(fromStore.flat()).toEqual([]);
    await new Promise((r) => setTimeout(r, 350));
    expect(await scanner.pass()).toBe(1);
    expect(fromStore.flat().map((l) => l.message.id)).toEqual([dropped[0]!.message.id]);
    // The dead taker's lease is lost: its result would not be stored.
    expect(await h.store.meta.queue.finishScan(dropped[0]!, { verdicts: [], next: 'deliver', now: Date.now() })).toBe(false);
    await h.waitForInbox(h.users.alice, 1);
  });

  it('hands the scanner the entry as the store holds it', async () => {
    const { h } = await setUp(60_000);
    const handed: ScanLease[] = [];
    h.spool.handScansTo({ leaseMs: 30_000, adopt: (l) => handed.push(l) });
    await send(h, 'as-stored');
    await new Promise((r) => setImmediate(r));
    const [lease] = handed;
    // Leased for the taker's lease time from when the message came (before its bytes were stored).
    expect(lease!.until - lease!.message.receivedAt).toBeLessThanOrEqual(30_000);
    expect(lease!.until - lease!.message.receivedAt).toBeGreaterThan(29_000);
    expect(lease!.message).toEqual(await h.store.meta.queue.getMessage(lease!.message.id));
  });
});
