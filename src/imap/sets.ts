/** Sequence sets from commands resolved against the selected folder's view. */
import { normalizeSequenceSet, sequenceSetMaxNumber, type SequenceSet } from '../codec/imap/index.js';
import type { MailboxView } from '../mailbox/view.js';

/** Disjoint, ascending [first, last] ranges of sequence numbers. */
export type SeqRanges = Array<[number, number]>;

export type Resolved = { readonly ok: true; readonly ranges: SeqRanges } | { readonly ok: false; readonly message: string };

function fromSeqs(seqs: number[]): SeqRanges {
  seqs.sort((a, b) => a - b);
  const out: SeqRanges = [];
  for (const s of seqs) {
    const last = out[out.length - 1];
    if (last && s <= last[1] + 1) last[1] = Math.max(last[1], s);
    else out.push([s, s]);
  }
  return out;
}

/**
 * Message numbers beyond EXISTS are a client error (RFC 9051 section 9,
 * seq-number); UIDs that do not exist are simply not matched. "$" is the
 * UIDs saved by SEARCH RETURN (SAVE).
 */
export function resolveSet(view: MailboxView, set: SequenceSet, byUid: boolean, saved: ReadonlySet<number> | null): Resolved {
  if (set.type === 'saved') {
    const seqs: number[] = [];
    for (const uid of saved ?? []) {
      const seq = view.seqOf(uid);
      if (seq !== 0) seqs.push(seq);
    }
    return { ok: true, ranges: fromSeqs(seqs) };
  }
  if (!byUid) {
    // Ranges that end in "*" are clipped instead, so "1:*" in an empty folder matches nothing.
    const explicit = set.ranges.filter((r) => r.from !== '*' && r.to !== '*');
    if (sequenceSetMaxNumber(explicit) > view.exists) return { ok: false, message: 'Invalid message sequence number' };
    return { ok: true, ranges: normalizeSequenceSet(set.ranges, view.exists) };
  }
  const out: SeqRanges = [];
  for (const [lo, hi] of normalizeSequenceSet(set.ranges, view.maxUid)) {
    const r = view.seqRangeForUids(lo, hi);
    if (!r) continue;
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push(r);
  }
  return { ok: true, ranges: out };
}

export function* seqsIn(ranges: SeqRanges): Generator<number> {
  for (const [a, b] of ranges) for (let s = a; s <= b; s++) yield s;
}

export function countIn(ranges: SeqRanges): number {
  let n = 0;
  for (const [a, b] of ranges) n += b - a + 1;
  return n;
}

/** UIDs of the ranges, skipping messages already expunged by another session. */
export function liveUids(view: MailboxView, ranges: SeqRanges): number[] {
  const out: number[] = [];
  for (const s of seqsIn(ranges)) {
    const uid = view.uidAt(s);
    if (!view.isExpunged(uid)) out.push(uid);
  }
  return out;
}
