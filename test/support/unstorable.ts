/**
 * Messages postern's one storage rule refuses (src/codec/mime/storable.ts),
 * for the tests that show SMTP DATA and IMAP APPEND agree on them.
 */
export const UNSTORABLE: readonly { readonly name: string; readonly bytes: Buffer; readonly reason: string }[] = [
  { name: 'a NUL byte in the body', bytes: Buffer.from('From: alice@example.test\r\nSubject: nul\r\n\r\nbefore\0after\r\n', 'latin1'), reason: 'nul' },
  { name: 'a line that is no field', bytes: Buffer.from('From: alice@example.test\r\nnot a field\r\nSubject: x\r\n\r\nbody\r\n', 'latin1'), reason: 'header-no-colon' },
  { name: 'a continuation line first', bytes: Buffer.from(' folded first\r\nFrom: alice@example.test\r\n\r\nbody\r\n', 'latin1'), reason: 'header-orphan-continuation' },
  { name: 'an invalid field name', bytes: Buffer.from('From: alice@example.test\r\nBad Name: x\r\n\r\nbody\r\n', 'latin1'), reason: 'header-bad-name' },
  { name: 'no header at all', bytes: Buffer.from('\r\nbody only\r\n', 'latin1'), reason: 'no-header' },
];

/** Passes the rule: header fields only, and 8-bit text. */
export const STORABLE: readonly Buffer[] = [
  Buffer.from('From: alice@example.test\r\nSubject: header only\r\n', 'latin1'),
  Buffer.from('From: alice@example.test\r\nSubject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nGr\u00fc\u00dfe\r\n', 'utf8'),
];
