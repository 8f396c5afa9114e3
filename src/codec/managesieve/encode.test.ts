import { describe, expect, it } from 'vitest';
import { sieveCapabilities, sieveNo, sieveOk, sieveScriptBody, sieveScriptList, sieveString } from './encode.js';

const s = (b: Buffer) => b.toString('utf8');

describe('ManageSieve encoder', () => {
  it('quotes what it can and sends the rest as literals', () => {
    expect(s(sieveString('a "b" \\c'))).toBe('"a \\"b\\" \\\\c"');
    expect(s(sieveString('ünï'))).toBe('"ünï"');
    expect(s(sieveString('two\r\nlines'))).toBe('{10}\r\ntwo\r\nlines');
    expect(s(sieveString('x'.repeat(1025)))).toBe(`{1025}\r\n${'x'.repeat(1025)}`);
  });

  it('writes responses with codes, capability lines, script lists and bodies', () => {
    expect(s(sieveOk('Done'))).toBe('OK "Done"\r\n');
    expect(s(sieveNo('Too big', { atom: 'QUOTA/MAXSIZE' }))).toBe('NO (QUOTA/MAXSIZE) "Too big"\r\n');
    expect(s(sieveOk('Done', { atom: 'TAG', arg: 't"1' }))).toBe('OK (TAG "t\\"1") "Done"\r\n');
    expect(s(sieveCapabilities([['IMPLEMENTATION', 'postern'], ['STARTTLS'], ['SASL', '']]))).toBe('"IMPLEMENTATION" "postern"\r\n"STARTTLS"\r\n"SASL" ""\r\n');
    expect(s(sieveScriptList([{ name: 'a', active: false }, { name: 'b', active: true }]))).toBe('"a"\r\n"b" ACTIVE\r\n');
    expect(s(sieveScriptBody(Buffer.from('keep;\r\n')))).toBe('{7}\r\nkeep;\r\n\r\n');
  });
});
