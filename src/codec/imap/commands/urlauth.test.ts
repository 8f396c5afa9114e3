import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseImapCommand } from '../parse.js';
import { rawFromLine } from '../raw.js';
import { MAX_URLS } from './urlauth.js';

const parse = (line: string) => parseImapCommand(rawFromLine(line));
const URL = 'imap://joe@example.com/INBOX/;uid=20;urlauth=anonymous';

describe('URLAUTH commands (RFC 4467, RFC 5524)', () => {
  it.each([
    [`u GENURLAUTH "${URL}" internal`, { name: 'GENURLAUTH', requests: [{ url: URL, mechanism: 'INTERNAL' }] }],
    [`u GENURLAUTH "${URL}" INTERNAL "${URL}x" XYZ`, { name: 'GENURLAUTH', requests: [{ url: URL, mechanism: 'INTERNAL' }, { url: `${URL}x`, mechanism: 'XYZ' }] }],
    ['u RESETKEY', { name: 'RESETKEY', mailbox: null, mechanisms: [] }],
    ['u RESETKEY inbox', { name: 'RESETKEY', mailbox: 'INBOX', mechanisms: [] }],
    ['u RESETKEY Drafts INTERNAL', { name: 'RESETKEY', mailbox: 'Drafts', mechanisms: ['INTERNAL'] }],
    [`u URLFETCH "${URL}"`, { name: 'URLFETCH', urls: [{ url: URL, params: null }] }],
    [`u URLFETCH ("${URL}" binary BODYPARTSTRUCTURE) "${URL}" ("${URL}")`, {
      name: 'URLFETCH',
      urls: [{ url: URL, params: ['BINARY', 'BODYPARTSTRUCTURE'] }, { url: URL, params: null }, { url: URL, params: [] }],
    }],
  ])('%s', (line, fields) => {
    expect(parse(line)).toEqual({ ok: true, command: { tag: 'u', ...fields } });
  });

  it.each([
    'u GENURLAUTH',
    `u GENURLAUTH "${URL}"`,
    'u URLFETCH',
    `u URLFETCH ("${URL}" HEADERS)`,
    `u URLFETCH ("${URL}" BINARY`,
    'u RESETKEY INBOX (INTERNAL)',
    `u URLFETCH${` "${URL}"`.repeat(MAX_URLS + 1)}`,
  ])('rejects %j', (line) => {
    expect(parse(line)).toMatchObject({ ok: false, error: { tag: 'u' } });
  });

  it('never throws on any arguments', () => {
    fc.assert(
      fc.property(fc.constantFrom('GENURLAUTH', 'RESETKEY', 'URLFETCH'), fc.string({ maxLength: 200 }), (verb, rest) => {
        const r = parseImapCommand(rawFromLine(`t ${verb} ${rest.replace(/[\r\n]/g, ' ')}`));
        if (!r.ok) expect(r.error.message).not.toBe('Internal parser error');
        else expect(r.command.name).toBe(verb);
      }),
      { numRuns: 500 },
    );
  });
});
