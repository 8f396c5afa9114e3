/** SORT, THREAD, ESORT and PARTIAL against exact response lines. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RawClient, startHarness, type Harness } from './testing/harness.js';

const HELLO = 'From: Bob <bob@example.org>\nSubject: Hello there\nDate: Tue, 2 Jan 2024 10:00:00 +0000\nMessage-ID: <h@x.test>\n\nhi\n';
const GREET = 'From: =?utf-8?q?J=C3=BCrgen?= <j@example.org>\nSubject: =?utf-8?b?R3LDvMOfZQ==?=\nDate: Wed, 3 Jan 2024 10:00:00 +0100\n\nservus\n';
const REPLY = 'From: alice@example.test\nSubject: Re: Hello there\nDate: Mon, 1 Jan 2024 10:00:00 +0000\nMessage-ID: <r@x.test>\nIn-Reply-To: <h@x.test>\n\nback\n';

let h: Harness;
let c: RawClient;

beforeEach(async () => {
  h = await startHarness();
  for (const m of [HELLO, GREET, REPLY]) await h.deliver('INBOX', m);
  c = await RawClient.tls(h.ports.tls);
  await c.line();
  await c.login();
  await c.command('s', 'SELECT INBOX');
});
afterEach(async () => {
  c.close();
  await h.close();
});

describe('SORT', () => {
  it('orders by subject, date and address', async () => {
    // "Grüße" upper-cases to GRÜSSE, before HELLO THERE; 1 and 3 share a base subject.
    expect(await c.command('a', 'SORT (SUBJECT) UTF-8 ALL')).toEqual(['* SORT 2 1 3', 'a OK SORT completed']);
    // 3 Jan 10:00 +0100 is 09:00 UTC, still after 2 Jan.
    expect(await c.command('b', 'SORT (DATE) US-ASCII ALL')).toEqual(['* SORT 3 1 2', 'b OK SORT completed']);
    expect(await c.command('c', 'UID SORT (REVERSE FROM) UTF-8 ALL')).toEqual(['* SORT 2 1 3', 'c OK SORT completed']);
    expect(await c.command('d', 'SORT (DISPLAYFROM) UTF-8 NOT FROM bob')).toEqual(['* SORT 3 2', 'd OK SORT completed']);
    expect(await c.command('e', 'SORT (ARRIVAL) UTF-8 SUBJECT nothing')).toEqual(['* SORT', 'e OK SORT completed']);
  });

  it('answers ESORT and PARTIAL, in sort order', async () => {
    expect(await c.command('a', 'SORT RETURN (MIN MAX COUNT) (DATE) UTF-8 ALL')).toEqual(['* ESEARCH (TAG "a") MIN 3 MAX 2 COUNT 3', 'a OK SORT completed']);
    expect(await c.command('b', 'UID SORT RETURN () (DATE) UTF-8 ALL')).toEqual(['* ESEARCH (TAG "b") UID ALL 3,1:2', 'b OK SORT completed']);
    expect(await c.command('c', 'SORT RETURN (COUNT) (DATE) UTF-8 SUBJECT nothing')).toEqual(['* ESEARCH (TAG "c") COUNT 0', 'c OK SORT completed']);
    expect(await c.command('d', 'SORT RETURN (PARTIAL 3:2) (DATE) UTF-8 ALL')).toEqual(['* ESEARCH (TAG "d") PARTIAL (2:3 1:2)', 'd OK SORT completed']);
    expect(await c.command('e', 'SEARCH RETURN (PARTIAL -1:-2) ALL')).toEqual(['* ESEARCH (TAG "e") PARTIAL (-1:-2 2:3)', 'e OK SEARCH completed']);
    expect(await c.command('f', 'SEARCH RETURN (COUNT PARTIAL 5:9) ALL')).toEqual(['* ESEARCH (TAG "f") COUNT 3 PARTIAL (5:9 NIL)', 'f OK SEARCH completed']);
  });

  it('adds MODSEQ when the criteria ask for it', async () => {
    const r = await c.command('a', 'SORT (DATE) UTF-8 MODSEQ 1');
    expect(r[0]).toMatch(/^\* SORT 3 1 2 \(MODSEQ \d+\)$/);
    expect(r[r.length - 1]).toBe('a OK SORT completed');
  });

  it('refuses what it cannot do, changing nothing', async () => {
    expect(await c.command('a', 'SORT (DATE) KOI8-R ALL')).toEqual(['a NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset']);
    expect((await c.command('b', 'SORT (BOGUS) UTF-8 ALL'))[0]).toMatch(/^b BAD .*Unknown sort key BOGUS/);
    expect((await c.command('c', 'THREAD XYZ UTF-8 ALL'))[0]).toMatch(/^c BAD .*Unknown thread algorithm XYZ/);
    expect((await c.command('d', 'SORT RETURN (PARTIAL 1:*) (DATE) UTF-8 ALL'))[0]).toMatch(/^d BAD /);
    expect(await c.command('e', 'NOOP')).toEqual(['e OK NOOP completed']);
  });

  it('announces no EXPUNGE after SORT and THREAD by number, only after NOOP', async () => {
    const other = await RawClient.tls(h.ports.tls);
    try {
      await other.line();
      await other.login();
      await other.command('s', 'SELECT INBOX');
      await other.command('x', 'STORE 1 +FLAGS.SILENT (\\Deleted)');
      expect((await other.command('y', 'EXPUNGE')).at(-1)).toBe('y OK EXPUNGE completed');
    } finally {
      other.close();
    }
    // Flag updates may come at any time; EXPUNGE must not (RFC 9051 7.5.1).
    const withoutFetch = (lines: string[]): string[] => lines.filter((l) => !/^\* \d+ FETCH /.test(l));
    expect(withoutFetch(await c.command('a', 'SORT (DATE) UTF-8 ALL'))).toEqual(['* SORT 3 2', 'a OK SORT completed']);
    expect(withoutFetch(await c.command('b', 'THREAD REFERENCES UTF-8 ALL'))).toEqual(['* THREAD (3)(2)', 'b OK THREAD completed']);
    expect(withoutFetch(await c.command('c', 'NOOP'))).toEqual(['* 1 EXPUNGE', 'c OK NOOP completed']);
  });
});

describe('THREAD', () => {
  it('threads by references and by subject, with UIDs', async () => {
    expect(await c.command('a', 'THREAD REFERENCES UTF-8 ALL')).toEqual(['* THREAD (1 3)(2)', 'a OK THREAD completed']);
    expect(await c.command('b', 'UID THREAD ORDEREDSUBJECT UTF-8 ALL')).toEqual(['* THREAD (3 1)(2)', 'b OK THREAD completed']);
    expect(await c.command('c', 'THREAD REFERENCES UTF-8 SUBJECT nothing')).toEqual(['* THREAD', 'c OK THREAD completed']);
  });
});
