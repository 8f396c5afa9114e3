import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MailMessage } from '../store/types.js';
import { indexOf, MailboxView } from './view.js';

const msg = (uid: number, flags: string[], modseq: number): MailMessage => ({ id: uid, folderId: 1, uid, blobId: 'b', size: 1, internalDate: 0, flags, modseq });

describe('MailboxView', () => {
  it('maps sequence numbers and UIDs and keeps expunged messages until they are announced', () => {
    const v = new MailboxView(1, 7, indexOf([3, 5, 9, 12].map((uid) => ({ uid, flags: [], modseq: uid }))), 12);
    expect([v.exists, v.maxUid, v.seqOf(9), v.seqOf(4), v.uidAt(4)]).toEqual([4, 12, 3, 0, 12]);
    expect(v.seqRangeForUids(4, 10)).toEqual([2, 3]);
    expect(v.seqRangeForUids(13, 20)).toBeNull();
    const u = v.apply({ changed: [msg(5, ['\\Seen'], 13), msg(14, [], 15)], expunged: [3, 9, 100], highestModseq: 16 });
    expect(u).toEqual({ added: 1, changed: [5], expunged: [3, 9] });
    // Nothing moves until the expunges are taken.
    expect([v.exists, v.seqOf(12), v.isExpunged(9), v.flagsAt(2)]).toEqual([5, 4, true, ['\\Seen']]);
    expect(v.takeExpunged()).toEqual({ seqs: [3, 1], uids: [3, 9] });
    expect([v.exists, v.uidAt(1), v.uidAt(2), v.uidAt(3), v.highestModseq]).toEqual([3, 5, 12, 14, 16]);
    // A change seen again (same modseq) is not reported twice.
    expect(v.apply({ changed: [msg(5, ['\\Seen'], 13)], expunged: [], highestModseq: 16 }).changed).toEqual([]);
  });

  it('shares one array for equal flag sets and lists keywords', () => {
    const v = new MailboxView(1, 1, indexOf([{ uid: 1, flags: ['b', '\\Seen'], modseq: 1 }, { uid: 2, flags: ['\\Seen', 'b'], modseq: 1 }]), 1);
    expect(v.flagsAt(1)).toBe(v.flagsAt(2));
    expect([...v.keywords()]).toEqual(['b']);
    expect(v.firstUnseen()).toBe(0);
  });

  it('agrees with a plain list model under any sequence of changes', () => {
    type Op = { kind: 'add'; n: number } | { kind: 'flag'; pick: number } | { kind: 'expunge'; pick: number } | { kind: 'take' };
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), n: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ kind: fc.constant('flag' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('expunge' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('take' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops: Op[]) => {
        const v = new MailboxView(1, 1, indexOf([]), 0);
        let model: { uid: number; flags: string[]; gone: boolean }[] = [];
        let nextUid = 1;
        let modseq = 0;
        for (const o of ops) {
          if (o.kind === 'add') {
            const added: MailMessage[] = [];
            for (let i = 0; i < o.n; i++) {
              added.push(msg(nextUid, [], ++modseq));
              model.push({ uid: nextUid++, flags: [], gone: false });
            }
            v.apply({ changed: added, expunged: [], highestModseq: modseq });
          } else if (o.kind === 'flag' || o.kind === 'expunge') {
            const live = model.filter((m) => !m.gone);
            if (live.length === 0) continue;
            const target = live[o.pick % live.length]!;
            if (o.kind === 'flag') {
              target.flags = [`k${++modseq}`];
              v.apply({ changed: [msg(target.uid, target.flags, modseq)], expunged: [], highestModseq: modseq });
            } else {
              target.gone = true;
              v.apply({ changed: [], expunged: [target.uid], highestModseq: ++modseq });
            }
          } else {
            const expected = model.map((m, i) => ({ seq: i + 1, m })).filter((x) => x.m.gone);
            expect(v.takeExpunged()).toEqual({ seqs: expected.map((x) => x.seq).reverse(), uids: expected.map((x) => x.m.uid) });
            model = model.filter((m) => !m.gone);
          }
          expect(v.exists).toBe(model.length);
          model.forEach((m, i) => {
            expect(v.uidAt(i + 1)).toBe(m.uid);
            expect(v.seqOf(m.uid)).toBe(i + 1);
            expect(v.isExpunged(m.uid)).toBe(m.gone);
            if (!m.gone) expect([...v.flagsAt(i + 1)]).toEqual(m.flags);
          });
        }
      }),
      { numRuns: 200 },
    );
  });

  it('keeps copies apart from the view and from each other, whichever changes first (copies share arrays until then)', () => {
    type Op = { kind: 'add' | 'flag' | 'expunge' | 'take' | 'copy'; pick: number; target: number };
    const op = fc.record({ kind: fc.constantFrom('add', 'flag', 'expunge', 'take', 'copy'), pick: fc.nat(), target: fc.nat() }) as fc.Arbitrary<Op>;
    type Model = { uid: number; flags: string[]; gone: boolean }[];
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops: Op[]) => {
        // Index 0 is the first view; copies are added as they are taken.
        const views: { v: MailboxView; model: Model; nextUid: number }[] = [
          { v: new MailboxView(1, 1, indexOf([1, 2, 3].map((uid) => ({ uid, flags: [], modseq: uid }))), 3), model: [1, 2, 3].map((uid) => ({ uid, flags: [], gone: false })), nextUid: 4 },
        ];
        let modseq = 10;
        for (const o of ops) {
          const t = views[o.target % views.length]!;
          const live = t.model.filter((m) => !m.gone);
          if (o.kind === 'copy') {
            views.push({ v: t.v.copy(), model: live.map((m) => ({ ...m, flags: [...m.flags] })), nextUid: t.nextUid });
          } else if (o.kind === 'add') {
            t.v.apply({ changed: [msg(t.nextUid, [], ++modseq)], expunged: [], highestModseq: modseq });
            t.model.push({ uid: t.nextUid++, flags: [], gone: false });
          } else if (o.kind === 'flag' && live.length > 0) {
            const m = live[o.pick % live.length]!;
            m.flags = [`k${++modseq}`];
            if (o.pick % 2 === 0) t.v.apply({ changed: [msg(m.uid, m.flags, modseq)], expunged: [], highestModseq: modseq });
            else t.v.setFlags(m.uid, m.flags, modseq);
          } else if (o.kind === 'expunge' && live.length > 0) {
            const m = live[o.pick % live.length]!;
            m.gone = true;
            t.v.markExpunged([m.uid]);
          } else if (o.kind === 'take') {
            t.v.takeExpunged();
            t.model = t.model.filter((m) => !m.gone);
          }
          for (const { v, model } of views) {
            expect(v.exists).toBe(model.length);
            model.forEach((m, i) => {
              expect(v.uidAt(i + 1)).toBe(m.uid);
              expect(v.isExpunged(m.uid)).toBe(m.gone);
              expect([...v.flagsAt(i + 1)]).toEqual(m.flags);
            });
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is built from flags as the store keeps them, in any order and spacing, one list per set', () => {
    const v = new MailboxView(1, 1, { uids: [2, 4, 6, 9], flags: ['$b \\Seen', '', '\\Seen $b', ' \\Seen  $b '], modseqs: [3, 5, 7, 9] }, 9);
    expect([...v.flagsAt(1)]).toEqual(['$b', '\\Seen']);
    expect(v.flagsAt(3)).toBe(v.flagsAt(1));
    expect(v.flagsAt(4)).toBe(v.flagsAt(1));
    expect(v.flagsAt(2)).toEqual([]);
    expect([v.modseqAt(1), v.modseqAt(4), v.maxUid]).toEqual([3, 9, 9]);
    expect([...v.keywords()]).toEqual(['$b']);
    // A repeated or descending UID (never listed by a store) is left out, not misplaced.
    const odd = new MailboxView(1, 1, { uids: [1, 3, 3, 2, 5], flags: ['', '', '', '', ''], modseqs: [1, 2, 3, 4, 5] }, 5);
    expect([odd.exists, odd.uidAt(1), odd.uidAt(2), odd.uidAt(3)]).toEqual([3, 1, 3, 5]);
  });

  it('holds as recent exactly the UIDs of the ranges marked that it holds, through expunges', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 200 }), { maxLength: 80 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 220 }), fc.integer({ min: 0, max: 30 })), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (held: number[], ranges: Array<[number, number]>, expunge: number[]) => {
          let uids = [...held].sort((a, b) => a - b);
          const v = new MailboxView(1, 1, indexOf(uids.map((uid) => ({ uid, flags: [], modseq: 1 }))), 1);
          for (const [first, span] of ranges) v.markRecent(first, first + span);
          const marked = (uid: number): boolean => ranges.some(([first, span]) => uid >= first && uid <= first + span);
          const check = (): void => {
            expect(v.recentCount).toBe(uids.filter(marked).length);
            uids.forEach((uid, i) => expect(v.flagsAt(i + 1).includes('\\Recent')).toBe(marked(uid)));
          };
          check();
          if (uids.length === 0) return;
          const gone = [...new Set(expunge.map((n) => uids[n % uids.length]!))];
          v.apply({ changed: [], expunged: gone, highestModseq: 2 });
          check(); // announced later: still there, still recent
          v.takeExpunged();
          uids = uids.filter((u) => !gone.includes(u));
          check();
        },
      ),
      { numRuns: 300 },
    );
  });
});
