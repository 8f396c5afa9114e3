/**
 * The retro-scan of stored mail (`postern dlp scan`): classifies what is
 * already in the mailboxes with today's rules, to find confidential data that
 * arrived before a rule existed. It streams: accounts, then folders, then the
 * folder's UIDs in batches, each distinct blob read (verified) once and
 * classified by the caller's `classify` (a pool task in the command), so
 * neither the store nor a folder's messages are ever held in memory at once.
 *
 * Every message looked at ends up counted: clean, matched, not scannable
 * (encrypted as a whole, or holding an encrypted archive or document), corrupt (its blob failed verification or is gone)
 * or failed (classification ran out of budget or crashed). Nothing here sees
 * a matched value in clear: a Classification carries masked samples only.
 */
import { isPosternError } from '../../core/errors.js';
import type { Account, Folder, Store } from '../../store/types.js';
import type { Classification, RuleMatch } from './types.js';

export class ScanSelectionError extends Error {}

export interface StoredScanOptions {
  /** Only messages whose internal date is at or after this (Unix ms); 0 for all. */
  readonly since: number;
  /** One account's address, or the accounts of one group (members that are not local accounts are skipped), or every account. */
  readonly mailbox?: string;
  readonly group?: string;
  /** Classifies one message; rejects when it could not (budget, worker died). */
  readonly classify: (raw: Uint8Array) => Promise<Classification>;
  /** The rules file's unscannable_rule: an encrypted message is listed as not scannable, not as a match of it. */
  readonly unscannableRule?: string | null;
  /** Messages classified at once (keep it at the pool's thread count or a little above). */
  readonly concurrency?: number;
  /** UIDs fetched per store query. */
  readonly batch?: number;
  /** Distinct blobs whose outcome is remembered for further copies (bounded, oldest forgotten first). */
  readonly remember?: number;
  readonly onProgress?: (done: number, total: number) => void;
  /** Every message that matched, was not scannable, corrupt or failed, in folder and UID order. */
  readonly onItem?: (item: ScanItem) => void;
}

interface Where {
  readonly mailbox: string;
  readonly folder: string;
  readonly uid: number;
}

export type ScanItem =
  | (Where & { readonly kind: 'match'; readonly matches: readonly RuleMatch[] })
  | (Where & { readonly kind: 'encrypted'; readonly detail: string })
  | (Where & { readonly kind: 'corrupt'; readonly detail: string })
  | (Where & { readonly kind: 'failed'; readonly detail: string });

export interface ScanSummary {
  readonly accounts: number;
  readonly folders: number;
  /** Messages (copies) in the time window, and those that matched, were encrypted, corrupt or failed. */
  readonly messages: number;
  readonly matched: number;
  readonly encrypted: number;
  readonly corrupt: number;
  readonly failed: number;
  /** Distinct blobs classified and their bytes. */
  readonly classified: number;
  readonly bytes: number;
  /** Matched messages per rule name. */
  readonly byRule: Readonly<Record<string, number>>;
}

type Outcome =
  | { readonly kind: 'clean' }
  | { readonly kind: 'match'; readonly matches: readonly RuleMatch[] }
  | { readonly kind: 'encrypted' | 'corrupt' | 'failed'; readonly detail: string };

const DEFAULT_BATCH = 200;
const DEFAULT_REMEMBER = 20_000;

/** A printable, bounded reason (no message content ever reaches here, but an error text may be long). */
const reason = (e: unknown): string =>
  (e instanceof Error ? e.message : String(e)).replace(/[\p{Cc}\p{Cf}]/gu, ' ').slice(0, 200);

async function selectAccounts(store: Store, o: StoredScanOptions): Promise<Account[]> {
  const dir = store.meta.directory;
  if (o.mailbox !== undefined) {
    const a = await dir.getAccount(o.mailbox.trim().toLowerCase());
    if (!a) throw new ScanSelectionError(`${o.mailbox}: no such account`);
    return [a];
  }
  if (o.group !== undefined) {
    const name = o.group.trim();
    if (!(await dir.listGroups()).some((g) => g.name === name)) throw new ScanSelectionError(`${o.group}: no such group`);
    const members = await dir.listGroupMembers(name);
    const accounts: Account[] = [];
    for (const m of [...new Set(members.map((x) => x.toLowerCase()))].sort()) {
      const a = await dir.getAccount(m);
      if (a) accounts.push(a);
    }
    return accounts;
  }
  return (await dir.listAccounts()).sort((a, b) => a.address.localeCompare(b.address));
}

/** The outcome of one blob: read (the store verifies it), then classified. */
async function classifyBlob(store: Store, blobId: string, o: StoredScanOptions, counts: { classified: number; bytes: number }): Promise<Outcome> {
  let raw: Uint8Array;
  try {
    raw = await store.blobs.get(blobId);
  } catch (e) {
    if (isPosternError(e) && (e.code === 'INTEGRITY' || e.code === 'NOT_FOUND')) return { kind: 'corrupt', detail: reason(e) };
    throw e; // the store itself failed: the scan cannot go on
  }
  let c: Classification;
  try {
    c = await o.classify(raw);
  } catch (e) {
    return { kind: 'failed', detail: reason(e) };
  }
  counts.classified++;
  counts.bytes += raw.byteLength;
  const matches = c.matches.filter((m) => m.rule !== o.unscannableRule);
  if (matches.length > 0) return { kind: 'match', matches };
  // Encrypted as a whole, or an encrypted archive or document inside: what it holds was not looked at.
  const sealed = c.findings.find((x) => x.kind === 'encrypted-message') ?? c.findings.find((x) => x.kind === 'encrypted');
  if (c.encrypted || sealed) return { kind: 'encrypted', detail: sealed ? `${sealed.part}: ${sealed.detail}`.slice(0, 200) : 'the message is encrypted' };
  return { kind: 'clean' };
}

export async function scanStoredMail(store: Store, o: StoredScanOptions): Promise<ScanSummary> {
  if (o.mailbox !== undefined && o.group !== undefined) throw new ScanSelectionError('give --mailbox or --group, not both');
  const accounts = await selectAccounts(store, o);
  const batch = Math.max(1, Math.min(5_000, o.batch ?? DEFAULT_BATCH));
  const width = Math.max(1, Math.min(64, o.concurrency ?? 2));
  const remember = Math.max(0, o.remember ?? DEFAULT_REMEMBER);

  // The total for the progress bar, from folder counts (no message is listed for it).
  const plan: { account: Account; folders: Folder[] }[] = [];
  let total = 0;
  for (const account of accounts) {
    const folders = await store.meta.mailboxes.listFolders(account.id);
    for (const f of folders) total += (await store.meta.mailboxes.folderStats(f.id)).messages;
    plan.push({ account, folders });
  }

  const counts = { classified: 0, bytes: 0 };
  // Copies of one message share a blob: its outcome is computed once while remembered.
  const known = new Map<string, Promise<Outcome>>();
  const outcomeOf = (blobId: string): Promise<Outcome> => {
    const had = known.get(blobId);
    if (had) {
      known.delete(blobId); // move to the newest end
      known.set(blobId, had);
      return had;
    }
    const p = classifyBlob(store, blobId, o, counts);
    if (remember > 0) {
      known.set(blobId, p);
      if (known.size > remember) known.delete(known.keys().next().value!);
    }
    return p;
  };

  const tally = { messages: 0, matched: 0, encrypted: 0, corrupt: 0, failed: 0, folders: 0 };
  const byRule: Record<string, number> = {};
  let done = 0;
  o.onProgress?.(0, total);

  for (const { account, folders } of plan) {
    for (const folder of folders) {
      tally.folders++;
      const { uids } = await store.meta.mailboxes.listIndex(folder.id);
      for (let i = 0; i < uids.length; i += batch) {
        const slice = uids.slice(i, i + batch);
        // Expunged since listIndex: getMessages leaves them out, the progress still counts them.
        const msgs = (await store.meta.mailboxes.getMessages(folder.id, slice)).filter((m) => m.internalDate >= o.since).sort((a, b) => a.uid - b.uid);
        const outcomes: Outcome[] = new Array<Outcome>(msgs.length);
        let next = 0;
        const worker = async (): Promise<void> => {
          while (next < msgs.length) {
            const k = next++;
            outcomes[k] = await outcomeOf(msgs[k]!.blobId);
          }
        };
        await Promise.all(Array.from({ length: Math.min(width, msgs.length) }, worker));
        msgs.forEach((m, k) => {
          const r = outcomes[k]!;
          tally.messages++;
          if (r.kind === 'clean') return;
          const where = { mailbox: account.address, folder: folder.name, uid: m.uid };
          if (r.kind === 'match') {
            tally.matched++;
            for (const x of r.matches) byRule[x.rule] = (byRule[x.rule] ?? 0) + 1;
            o.onItem?.({ ...where, kind: 'match', matches: r.matches });
          } else {
            tally[r.kind]++;
            o.onItem?.({ ...where, kind: r.kind, detail: r.detail });
          }
        });
        done += slice.length;
        o.onProgress?.(done, Math.max(done, total)); // a message delivered meanwhile may push done past the planned total
      }
    }
  }
  return {
    accounts: accounts.length,
    folders: tally.folders,
    messages: tally.messages,
    matched: tally.matched,
    encrypted: tally.encrypted,
    corrupt: tally.corrupt,
    failed: tally.failed,
    classified: counts.classified,
    bytes: counts.bytes,
    byRule,
  };
}

/** grep's convention: 2 when something could not be looked at, else 1 when something matched, else 0. */
export function scanExitCode(s: ScanSummary): 0 | 1 | 2 {
  if (s.corrupt > 0 || s.failed > 0) return 2;
  return s.matched > 0 ? 1 : 0;
}
