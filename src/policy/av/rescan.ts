/**
 * Rescanning stored mail with today's signatures: every message delivered
 * since a time (one account or all) is scanned once per distinct blob (copies
 * of one message share it), and what an engine now detects is moved out of
 * the mailboxes into the quarantine (QuarantineRepo.holdStored) and recorded
 * as `malware.detected` with direction "stored" and stage "rescan".
 */
import { newQueueId } from '../../core/ids.js';
import type { Store, StoredHold } from '../../store/types.js';
import { EngineUnavailable, type ScanEngine } from './engine.js';
import { malwareVerdict, safeSignature, scanAll } from './stage.js';
import { EngineWatch } from './watch.js';

export interface RescanOptions {
  /** Only messages whose internal date is at or after this (Unix ms). */
  readonly since: number;
  /** One account's address, or every account. */
  readonly account?: string;
  /** Milliseconds one message may take in the engines. */
  readonly budgetMs: number;
  /** Messages scanned at once. */
  readonly concurrency?: number;
  /** Consecutive engine failures after which the rescan stops (an engine is down). */
  readonly maxFailures?: number;
  readonly now?: () => number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface RescanSummary {
  /** Distinct messages (blobs) scanned, and their delivered copies. */
  readonly scanned: number;
  readonly copies: number;
  readonly bytes: number;
  /** Messages found infected, and copies taken out of mailboxes. */
  readonly detected: number;
  readonly quarantinedCopies: number;
  readonly failed: number;
  /** Set when the rescan stopped early because the engines kept failing. */
  readonly stopped: string | null;
  readonly findings: readonly { readonly queueId: string; readonly signature: string; readonly engine: string; readonly recipients: readonly string[] }[];
}

type Copy = StoredHold['copies'][number];

/** The envelope sender as delivery recorded it (Return-Path), from the first 64 KiB; '' when absent. */
function returnPath(raw: Uint8Array): string {
  const head = Buffer.from(raw.buffer, raw.byteOffset, Math.min(raw.byteLength, 65_536)).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const m = /^Return-Path:[ \t]*<([^>\r\n]{0,320})>/im.exec(end >= 0 ? head.slice(0, end) : head);
  return m?.[1] ?? '';
}

export async function rescanStored(store: Store, engines: readonly ScanEngine[], o: RescanOptions): Promise<RescanSummary> {
  if (engines.length === 0) throw new Error('no malware engine is configured ([policy.malware.clamav])');
  const now = o.now ?? Date.now;
  const accounts = o.account
    ? [await store.meta.directory.getAccount(o.account.toLowerCase())].filter((a) => a !== null)
    : await store.meta.directory.listAccounts();
  if (o.account && accounts.length === 0) throw new Error(`${o.account}: no such account`);
  const byBlob = new Map<string, { size: number; copies: Copy[] }>();
  for (const a of accounts) {
    for (const f of await store.meta.mailboxes.listFolders(a.id)) {
      for (const m of await store.meta.mailboxes.listMessages(f.id)) {
        if (m.internalDate < o.since) continue;
        const e = byBlob.get(m.blobId) ?? { size: m.size, copies: [] };
        e.copies.push({ folderId: f.id, uid: m.uid, accountId: a.id, address: a.address });
        byBlob.set(m.blobId, e);
      }
    }
  }
  const work = [...byBlob.entries()];
  const watch = new EngineWatch({ record: (kind, subject, data) => void store.meta.events.record(kind, subject, data, now()).catch(() => undefined) });
  const findings: RescanSummary['findings'][number][] = [];
  let done = 0;
  let bytes = 0;
  let copies = 0;
  let quarantined = 0;
  let failed = 0;
  let consecutive = 0;
  let stopped: string | null = null;
  const maxFailures = o.maxFailures ?? 3;
  o.onProgress?.(0, work.length);

  const one = async ([blobId, e]: (typeof work)[number]): Promise<void> => {
    let raw: Uint8Array;
    try {
      raw = await store.blobs.get(blobId);
    } catch {
      failed++; // a damaged or missing blob: `postern scrub` reports it
      return;
    }
    bytes += raw.byteLength;
    copies += e.copies.length;
    let found;
    try {
      found = await scanAll(engines, raw, AbortSignal.timeout(o.budgetMs), watch);
      consecutive = 0;
    } catch (err) {
      failed++;
      if (++consecutive >= maxFailures) stopped ??= err instanceof EngineUnavailable ? err.message : String(err);
      return;
    }
    if (found.length === 0) return;
    const queueId = newQueueId(now());
    const verdict = { ...malwareVerdict(found, 'quarantine', 'inbound', 'after-queue'), events: [] };
    const first = found[0]!;
    const taken = await store.meta.quarantine.holdStored({
      queueId,
      blobId,
      size: e.size,
      sender: returnPath(raw),
      at: now(),
      stage: 'malware',
      reason: `rescan: ${first.engine}: ${safeSignature(first.signature)}`.slice(0, 200),
      verdicts: [verdict],
      copies: e.copies,
    });
    if (taken === 0) return; // expunged meanwhile
    quarantined += taken;
    findings.push({ queueId, signature: safeSignature(first.signature), engine: first.engine, recipients: [...new Set(e.copies.map((c) => c.address))] });
    for (const d of found) {
      await store.meta.events.record(
        'malware.detected',
        queueId,
        { engine: d.engine, direction: 'stored', action: 'quarantine', signature: safeSignature(d.signature), part: d.part, stage: 'rescan', copies: taken },
        now(),
      );
    }
  };

  const width = Math.max(1, o.concurrency ?? 4);
  let next = 0;
  const worker = async () => {
    while (next < work.length && stopped === null) {
      const item = work[next++]!;
      await one(item);
      o.onProgress?.(++done, work.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, work.length) }, worker));
  return { scanned: done - failed, copies, bytes, detected: findings.length, quarantinedCopies: quarantined, failed, stopped, findings };
}
