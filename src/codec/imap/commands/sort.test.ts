import { describe, expect, it } from 'vitest';
import { parseImapCommand } from '../parse.js';
import { rawFromLine } from '../raw.js';

const parse = (line: string | Buffer) => parseImapCommand(rawFromLine(line));

describe('SORT', () => {
  it('reads the RFC 5256 examples', () => {
    expect(parse('A282 SORT (SUBJECT) UTF-8 SINCE 1-Feb-1994')).toEqual({
      ok: true,
      command: {
        tag: 'A282', name: 'SORT', uid: false, returnOptions: null, sort: [{ key: 'SUBJECT', reverse: false }],
        charset: 'UTF-8', criteria: [{ key: 'SINCE', date: { year: 1994, month: 2, day: 1 } }],
      },
    });
    expect(parse('A283 SORT (SUBJECT REVERSE DATE) UTF-8 ALL')).toMatchObject({
      ok: true,
      command: { sort: [{ key: 'SUBJECT', reverse: false }, { key: 'DATE', reverse: true }], criteria: [{ key: 'ALL' }] },
    });
    expect(parse('A284 UID SORT (subject) us-ascii TEXT "not in mailbox"')).toMatchObject({
      ok: true,
      command: { name: 'SORT', uid: true, charset: 'US-ASCII', criteria: [{ key: 'TEXT', value: 'not in mailbox' }] },
    });
  });

  it('reads ESORT return options and DISPLAYFROM/DISPLAYTO', () => {
    expect(parse('a SORT RETURN (MIN MAX COUNT ALL) (DISPLAYFROM REVERSE DISPLAYTO) UTF-8 UNSEEN')).toMatchObject({
      ok: true,
      command: {
        returnOptions: ['MIN', 'MAX', 'COUNT', 'ALL'],
        sort: [{ key: 'DISPLAYFROM', reverse: false }, { key: 'DISPLAYTO', reverse: true }],
      },
    });
    expect(parse('a SORT RETURN () (ARRIVAL) UTF-8 ALL')).toMatchObject({ ok: true, command: { returnOptions: [] } });
  });

  it.each([
    ['s SORT', 'Expected space'],
    ['s SORT () UTF-8 ALL', 'Empty list'],
    ['s SORT (FOO) UTF-8 ALL', 'Unknown sort key FOO'],
    ['s SORT (REVERSE) UTF-8 ALL', 'Expected space'],
    ['s SORT (REVERSE REVERSE DATE) UTF-8 ALL', 'Unknown sort key REVERSE'],
    ['s SORT (DATE) ALL', 'Expected space'],
    ['s SORT (DATE) UTF-8', 'Expected space'],
    ['s SORT RETURN (SAVE) (DATE) UTF-8 ALL', 'Unknown SORT return option SAVE'],
    ['s SORT DATE UTF-8 ALL', 'Expected "("'],
  ])('%s: %s', (line, message) => {
    expect(parse(line)).toMatchObject({ ok: false, error: { message } });
  });
});

describe('THREAD', () => {
  it('reads both algorithms, with UID', () => {
    expect(parse('A283 THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000')).toEqual({
      ok: true,
      command: { tag: 'A283', name: 'THREAD', uid: false, algorithm: 'ORDEREDSUBJECT', charset: 'UTF-8', criteria: [{ key: 'SINCE', date: { year: 2000, month: 3, day: 5 } }] },
    });
    expect(parse('A284 UID THREAD references US-ASCII TEXT "gewp"')).toMatchObject({ ok: true, command: { name: 'THREAD', uid: true, algorithm: 'REFERENCES' } });
  });

  it.each([
    ['t THREAD', 'Expected space'],
    ['t THREAD FOO UTF-8 ALL', 'Unknown thread algorithm FOO'],
    ['t THREAD REFERENCES UTF-8', 'Expected space'],
  ])('%s: %s', (line, message) => {
    expect(parse(line)).toMatchObject({ ok: false, error: { message } });
  });
});

describe('PARTIAL (RFC 5267 4.4, RFC 9394)', () => {
  it('reads ranges for SORT and SEARCH, turning one given backwards', () => {
    expect(parse('a SORT RETURN (PARTIAL 4:2) (ARRIVAL) US-ASCII ALL')).toMatchObject({ ok: true, command: { returnOptions: [], partial: { first: 2, last: 4 } } });
    expect(parse('a SORT RETURN (COUNT PARTIAL -1:-100) (DATE) UTF-8 ALL')).toMatchObject({ ok: true, command: { returnOptions: ['COUNT'], partial: { first: -1, last: -100 } } });
    expect(parse('a SEARCH RETURN (PARTIAL 1:500 MIN) ALL')).toMatchObject({ ok: true, command: { returnOptions: ['MIN'], partial: { first: 1, last: 500 } } });
    const plain = parse('a SEARCH RETURN (MIN) ALL');
    expect(plain.ok && 'partial' in plain.command).toBe(false);
  });

  it.each([
    'a SORT RETURN (PARTIAL 1) (ARRIVAL) US-ASCII ALL',
    'a SORT RETURN (PARTIAL 1:*) (ARRIVAL) US-ASCII ALL',
    'a SORT RETURN (PARTIAL *:1) (ARRIVAL) US-ASCII ALL',
    'a SORT RETURN (PARTIAL 0:3) (ARRIVAL) US-ASCII ALL',
    'a SORT RETURN (PARTIAL -1:3) (ARRIVAL) US-ASCII ALL',
    'a SORT RETURN (PARTIAL 1:2 PARTIAL 3:4) (ARRIVAL) US-ASCII ALL',
    'a SORT RETURN (PARTIAL 1:2 ALL) (ARRIVAL) US-ASCII ALL',
    'a SEARCH RETURN (PARTIAL 1:4294967296) ALL',
    'a SEARCH RETURN (ALL PARTIAL 1:2) ALL',
  ])('refuses %s', (line) => {
    expect(parse(line)).toMatchObject({ ok: false });
  });
});
