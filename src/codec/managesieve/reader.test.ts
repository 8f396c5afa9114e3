import { describe, expect, it } from 'vitest';
import { ManageSieveReader, type ManageSieveReaderEvent } from './reader.js';
import { parseManageSieveCommand, parseSaslResponse } from './parse.js';

function read(input: string | Buffer, opts = {}, chunk = 0): ManageSieveReaderEvent[] {
  const r = new ManageSieveReader(opts);
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input, 'utf8');
  const out: ManageSieveReaderEvent[] = [];
  const parts = chunk > 0 ? Array.from({ length: Math.ceil(buf.length / chunk) }, (_, i) => buf.subarray(i * chunk, (i + 1) * chunk)) : [buf];
  for (const p of parts) {
    r.push(p);
    for (let ev = r.next(); ev; ev = r.next()) out.push(ev);
  }
  return out;
}

const parsed = (input: string, chunk = 0, opts = {}) =>
  read(input, opts, chunk).map((e) => (e.type === 'command' ? parseManageSieveCommand(e.tokens) : e));

describe('ManageSieveReader + parse', () => {
  it('reads atoms, quoted strings and both literal forms, across any chunking', () => {
    const input = 'capability\r\nPUTSCRIPT "my \\"s\\"" {12+}\r\nkeep;\r\nstop;\r\nRENAMESCRIPT {1}\r\na "b"\r\nHAVESPACE "x" 100\r\nNOOP\r\n';
    for (const chunk of [0, 1, 3]) {
      expect(parsed(input, chunk)).toEqual([
        { ok: true, command: { cmd: 'CAPABILITY' } },
        { ok: true, command: { cmd: 'PUTSCRIPT', name: 'my "s"', script: Buffer.from('keep;\r\nstop;') } },
        { ok: true, command: { cmd: 'RENAMESCRIPT', from: 'a', to: 'b' } },
        { ok: true, command: { cmd: 'HAVESPACE', name: 'x', size: 100 } },
        { ok: true, command: { cmd: 'NOOP', tag: null } },
      ]);
    }
  });

  it('decodes UTF-8 names and refuses names that are not UTF-8', () => {
    expect(parsed('GETSCRIPT "vacación"\r\n')).toEqual([{ ok: true, command: { cmd: 'GETSCRIPT', name: 'vacación' } }]);
    expect(read(Buffer.concat([Buffer.from('GETSCRIPT {1+}\r\n'), Buffer.from([0xff]), Buffer.from('\r\n')])).map((e) => e.type === 'command' && parseManageSieveCommand(e.tokens))).toEqual([
      { ok: false, message: 'Script name is not UTF-8' },
    ]);
  });

  it('reports syntax errors and wrong arguments and carries on with the next command', () => {
    expect(parsed('FROB\r\nGETSCRIPT\r\nGETSCRIPT "a" "b"\r\nHAVESPACE "a" x\r\nGETSCRIPT "a\r\n"\r\nGETSCRIPT "a\\n"\r\n\r\nLOGOUT\r\n')).toEqual([
      { ok: false, message: 'Unknown command' },
      { ok: false, message: 'Wrong number of arguments for GETSCRIPT' },
      { ok: false, message: 'Wrong number of arguments for GETSCRIPT' },
      { ok: false, message: 'Expected a number' },
      { type: 'error', code: 'syntax', message: 'Unterminated quoted string', fatal: false },
      { type: 'error', code: 'syntax', message: 'Unterminated quoted string', fatal: false },
      { type: 'error', code: 'syntax', message: 'Bad escape in quoted string', fatal: false },
      { type: 'error', code: 'syntax', message: 'Empty command', fatal: false },
      { ok: true, command: { cmd: 'LOGOUT' } },
    ]);
  });

  it('skips a literal over the limit as it streams, then reports it; beyond the skip limit it is fatal', () => {
    const big = 'x'.repeat(2000);
    expect(parsed(`PUTSCRIPT "big" {2000+}\r\n${big}\r\nNOOP\r\n`, 100, { maxLiteralSize: 1000 }).map((e) => ('type' in e ? e : e.ok && e.command.cmd))).toEqual([
      { type: 'error', code: 'literal-too-large', message: 'Literal too large', fatal: false },
      'NOOP',
    ]);
    const r = new ManageSieveReader({ maxLiteralSize: 1000 });
    r.push(Buffer.from(`PUTSCRIPT "big" {2000+}\r\n${big.slice(0, 1500)}`));
    expect(r.next()).toBeNull();
    expect(r.bufferedBytes).toBe(0); // skipped bytes are not kept
    expect(read('PUTSCRIPT "huge" {99999999+}\r\n')).toEqual([{ type: 'error', code: 'literal-too-large', message: 'Literal too large', fatal: true }]);
  });

  it('refuses an over-long line without buffering it and resumes at the next line', () => {
    const r = new ManageSieveReader({ maxLineLength: 100 });
    r.push(Buffer.from('NOOP "' + 'a'.repeat(500)));
    expect(r.next()).toMatchObject({ type: 'error', code: 'line-too-long' });
    r.push(Buffer.from('a'.repeat(500)));
    expect(r.next()).toBeNull();
    expect(r.bufferedBytes).toBe(0);
    r.push(Buffer.from('"\r\nLOGOUT\r\n'));
    expect(r.next()).toEqual({ type: 'command', tokens: [{ type: 'atom', value: 'LOGOUT' }] });
  });

  it('reads SASL responses as one string, quoted or literal', () => {
    const evs = read('"AGFsaWNlAHNlY3JldA=="\r\n{4+}\r\nAA==\r\n"*"\r\n');
    expect(evs.map((e) => e.type === 'command' && parseSaslResponse(e.tokens))).toEqual(['AGFsaWNlAHNlY3JldA==', 'AA==', '*']);
    expect(parsed('AUTHENTICATE "plain" "AGE="\r\nAUTHENTICATE "PLAIN"\r\n')).toEqual([
      { ok: true, command: { cmd: 'AUTHENTICATE', mechanism: 'PLAIN', initialResponse: 'AGE=' } },
      { ok: true, command: { cmd: 'AUTHENTICATE', mechanism: 'PLAIN', initialResponse: null } },
    ]);
  });
});
