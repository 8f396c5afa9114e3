import { describe, expect, it } from 'vitest';
import type { AddressData, BodyStructureData, EnvelopeData } from '../structure.js';
import { encodeBodyStructure, MAX_BODY_DEPTH } from './bodystructure.js';
import { encodeEnvelope } from './envelope.js';
import { encodeValue } from './value.js';

const s = (v: Parameters<typeof encodeValue>[0]) => encodeValue(v).toString('latin1');
const addr = (name: string | null, mailbox: string | null, host: string | null): AddressData => ({ name, adl: null, mailbox, host });

// RFC 3501 section 6.4.5 example.
const ENVELOPE: EnvelopeData = {
  date: 'Wed, 17 Jul 1996 02:23:25 -0700 (PDT)',
  subject: 'IMAP4rev1 WG mtg summary and minutes',
  from: [addr('Terry Gray', 'gray', 'cac.washington.edu')],
  sender: null,
  replyTo: [],
  to: [addr(null, 'imap', 'cac.washington.edu')],
  cc: [addr(null, 'minutes', 'CNRI.Reston.VA.US'), addr('John Klensin', 'KLENSIN', 'MIT.EDU')],
  bcc: null,
  inReplyTo: null,
  messageId: '<B27397-0100000@cac.washington.edu>',
};

describe('encodeEnvelope', () => {
  it('matches RFC 3501, with Sender and Reply-To taken from From', () => {
    expect(s(encodeEnvelope(ENVELOPE))).toBe(
      '("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" ' +
        '(("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ' +
        '(("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) ' +
        '((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL ' +
        '"<B27397-0100000@cac.washington.edu>")',
    );
  });

  it('writes group syntax and 8-bit or multi-line strings as literals', () => {
    const env: EnvelopeData = {
      ...ENVELOPE,
      date: null,
      subject: 'caf\u00e9',
      from: null,
      sender: [addr('Ann', 'ann', 'x.example')],
      replyTo: null,
      to: [addr(null, 'team', null), addr(null, 'a', 'x.example'), addr(null, null, null)],
      cc: null,
    };
    expect(s(encodeEnvelope(env))).toBe(
      '(NIL {5}\r\ncaf\xc3\xa9 NIL (("Ann" NIL "ann" "x.example")) NIL ((NIL NIL "team" NIL)(NIL NIL "a" "x.example")(NIL NIL NIL NIL)) NIL NIL NIL ' +
        '"<B27397-0100000@cac.washington.edu>")',
    );
  });
});

const TEXT_PLAIN: BodyStructureData = {
  kind: 'text', subtype: 'plain', params: [['CHARSET', 'US-ASCII']], id: null, description: null, encoding: '7BIT', size: 1152, lines: 23,
};
const ATTACHMENT: BodyStructureData = {
  kind: 'text', subtype: 'PLAIN', params: [['CHARSET', 'US-ASCII'], ['NAME', 'cc.diff']],
  id: '<960723163407.20117h@cac.washington.edu>', description: 'Compiler diff', encoding: 'BASE64', size: 4554, lines: 73,
};

describe('encodeBodyStructure', () => {
  it('writes BODY for a multipart exactly as RFC 3501 section 7.4.2 shows', () => {
    const mixed: BodyStructureData = { kind: 'multipart', subtype: 'mixed', parts: [TEXT_PLAIN, ATTACHMENT], params: [['BOUNDARY', 'xyz']] };
    expect(s(encodeBodyStructure(mixed, false))).toBe(
      '(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23)("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") ' +
        '"<960723163407.20117h@cac.washington.edu>" "Compiler diff" "BASE64" 4554 73) "MIXED")',
    );
  });

  it('adds extension data for BODYSTRUCTURE', () => {
    const part: BodyStructureData = {
      kind: 'basic', type: 'application', subtype: 'pdf', params: [['NAME', 'a.pdf']], id: null, description: null, encoding: 'BASE64', size: 100,
      md5: null, disposition: { type: 'attachment', params: [['FILENAME', 'a.pdf']] }, language: ['en', 'de'], location: null,
    };
    const mixed: BodyStructureData = {
      kind: 'multipart', subtype: 'MIXED', parts: [{ ...TEXT_PLAIN, language: ['en'] }, part], params: [['BOUNDARY', 'b1']], disposition: null,
    };
    expect(s(encodeBodyStructure(mixed, true))).toBe(
      '(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23 NIL NIL "en" NIL)' +
        '("APPLICATION" "PDF" ("NAME" "a.pdf") NIL NIL "BASE64" 100 NIL ("attachment" ("FILENAME" "a.pdf")) ("en" "de") NIL) ' +
        '"MIXED" ("BOUNDARY" "b1") NIL NIL NIL)',
    );
  });

  it('writes message/rfc822 with envelope, nested body and lines', () => {
    const msg: BodyStructureData = {
      kind: 'message', subtype: 'rfc822', params: [], id: null, description: null, encoding: '7BIT', size: 500, lines: 12,
      envelope: { ...ENVELOPE, from: null, to: null, cc: null }, body: TEXT_PLAIN,
    };
    expect(s(encodeBodyStructure(msg, false))).toBe(
      '("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 500 ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" ' +
        'NIL NIL NIL NIL NIL NIL NIL "<B27397-0100000@cac.washington.edu>") ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23) 12)',
    );
  });

  it('fills an empty multipart and cuts deep nesting short instead of failing', () => {
    expect(s(encodeBodyStructure({ kind: 'multipart', subtype: 'mixed', parts: [], params: [] }, false))).toBe(
      '(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 0 0) "MIXED")',
    );
    let deep: BodyStructureData = TEXT_PLAIN;
    for (let i = 0; i < 10_000; i++) deep = { kind: 'multipart', subtype: 'mixed', parts: [deep], params: [] };
    const out = s(encodeBodyStructure(deep, true));
    expect(out.split('"MIXED"').length - 1).toBe(MAX_BODY_DEPTH);
    expect(out).toContain('"7BIT" 0 0');
  });
});
