/**
 * The benchmark harness's pure parts: argument parsing, statistics, the
 * report table, smtp-source output parsing, the NXDOMAIN reply and the
 * postern.toml edit. No benchmark runs here.
 */
import { describe, expect, it } from 'vitest';

// The harness is plain JavaScript: its exports are typed here as these tests use them.
const load = async <T>(p: string): Promise<T> => (await import(new URL(`../../bench/harness/${p}`, import.meta.url).href)) as T;
interface RowsT {
  rows: unknown[];
  add(cell: string, unit: string, better: string, server: string, value: number): void;
}

const { parseArgs } = await load<{ parseArgs: (a: string[]) => unknown }>('args.mjs');
const { median, percentile, ratio, rotation } = await load<{ median: (xs: number[]) => number; percentile: (xs: number[], p: number) => number; ratio: (a: number, b: number) => number; rotation: (s: string[], r: number) => string[] }>('stats.mjs');
const { fmt, table, Rows } = await load<{ fmt: (x: number) => string; table: (rows: unknown[]) => string; Rows: new () => RowsT }>('report.mjs');
const { parseSmtpSource } = await load<{ parseSmtpSource: (out: string, err: string) => unknown }>('smtp-source.mjs');
const { nxdomainReply } = await load<{ nxdomainReply: (q: Buffer) => Buffer | null }>('dns.mjs');
const { editToml } = await load<{ editToml: (text: string, set: Record<string, Record<string, unknown>>) => string }>('peers/postern.mjs');

describe('parseArgs', () => {
  it('reads the suite and the options', () => {
    expect(parseArgs(['smtp'])).toEqual({ suite: 'smtp', reps: 3, quick: false, install: false, only: null });
    expect(parseArgs(['imap', '--reps', '5', '--quick', '--only', 'postern,dovecot'])).toMatchObject({ suite: 'imap', reps: 5, quick: true, only: ['postern', 'dovecot'] });
  });
  it('refuses what it does not know, with the usage', () => {
    expect(() => parseArgs([])).toThrow(/which suite/);
    expect(() => parseArgs(['mail'])).toThrow(/unknown suite/);
    expect(() => parseArgs(['smtp', '--reps', '0'])).toThrow(/1 to 50/);
    expect(() => parseArgs(['smtp', '--reps', 'x'])).toThrow(/1 to 50/);
    expect(() => parseArgs(['smtp', '--reps'])).toThrow(/needs a value/);
    expect(() => parseArgs(['smtp', '--fast'])).toThrow(/unknown option/);
    expect(() => parseArgs(['smtp', 'imap'])).toThrow(/one suite/);
  });
});

describe('statistics', () => {
  it('median, percentile and ratio', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([NaN, 5])).toBe(5);
    expect(median([])).toBeNaN();
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile([], 50)).toBeNaN();
    expect(ratio(10, 4)).toBe(2.5);
    expect(ratio(10, 0)).toBeNaN();
    expect(ratio(NaN, 1)).toBeNaN();
  });
  it('rotates the order of servers between repetitions', () => {
    expect(rotation(['a', 'b', 'c'], 0)).toEqual(['a', 'b', 'c']);
    expect(rotation(['a', 'b', 'c'], 1)).toEqual(['b', 'c', 'a']);
    expect(rotation(['a', 'b', 'c'], 5)).toEqual(['c', 'a', 'b']);
  });
});

describe('report table', () => {
  it('shows medians and postern/peer from the same run', () => {
    const rows = new Rows();
    for (const v of [100, 300, 200]) rows.add('intake', 'msg/s', 'higher', 'postern', v);
    for (const v of [400, 400, 100]) rows.add('intake', 'msg/s', 'higher', 'postfix', v);
    rows.add('latency', 'ms', 'lower', 'postfix', 2);
    const md = table(rows.rows);
    const lines = md.split('\n');
    expect(lines[0]).toBe('| cell | unit | better | postern | postfix | postern/postfix |');
    expect(lines[2]).toBe('| intake | msg/s | higher | 200 | 400 | 0.50 |');
    expect(lines[3]).toBe('| latency | ms | lower |  | 2.00 |  |');
    expect(fmt(NaN)).toBe('–');
    expect(fmt(1234.5)).toBe('1235');
    expect(fmt(0.01234)).toBe('0.012');
  });
});

describe('parseSmtpSource', () => {
  it('takes the last count and the warnings', () => {
    expect(parseSmtpSource('1\r2\r3\r\n', '')).toEqual({ sent: 3, errors: 0, firstError: null });
    const r = parseSmtpSource('1\r2', 'smtp-source: warning: 451 4.3.0 try later\nsmtp-source: fatal: connect: Connection refused\n');
    expect(r).toEqual({ sent: 2, errors: 2, firstError: 'smtp-source: warning: 451 4.3.0 try later' });
    expect(parseSmtpSource('', '')).toEqual({ sent: 0, errors: 0, firstError: null });
  });
});

describe('nxdomainReply', () => {
  // A query for TXT example.test, id 0x1234, RD set.
  const query = Buffer.concat([Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), Buffer.from('\x07example\x04test\x00', 'latin1'), Buffer.from([0, 16, 0, 1])]);
  it('answers a query with NXDOMAIN and its question', () => {
    const r = nxdomainReply(query)!;
    expect(r.readUInt16BE(0)).toBe(0x1234);
    expect(r[2]! & 0x80).toBe(0x80);
    expect(r[3]! & 0x0f).toBe(3);
    expect(r.readUInt16BE(4)).toBe(1);
    expect(r.readUInt16BE(6)).toBe(0);
    expect(r.subarray(12).equals(query.subarray(12))).toBe(true);
  });
  it('ignores what is not a well-formed query', () => {
    expect(nxdomainReply(Buffer.alloc(5))).toBeNull();
    expect(nxdomainReply(query.subarray(0, 20))).toBeNull();
    const response = Buffer.from(query);
    response[2] = 0x81;
    expect(nxdomainReply(response)).toBeNull();
    expect(nxdomainReply(Buffer.concat([query.subarray(0, 12), Buffer.from([0xc0, 12])]))).toBeNull();
  });
});

describe('editToml', () => {
  it('replaces keys in their section and adds missing ones, leaving the rest', () => {
    const text = '[smtp]\nmax_connections = 500\n[smtp.mx]\naddress = "0.0.0.0"\nport = 25\n[log]\nlevel = "info"\n';
    const out = editToml(text, { 'smtp.mx': { address: '"127.0.0.1"', port: 2525 }, smtp: { max_pending_per_client: 200 } });
    expect(out).toBe('[smtp]\nmax_pending_per_client = 200\nmax_connections = 500\n[smtp.mx]\naddress = "127.0.0.1"\nport = 2525\n[log]\nlevel = "info"\n');
  });

  it('removes a key set to null and never writes it', () => {
    const text = '[policy.dlp]\nrules = "dlp-rules.toml"\nbudget_ms = 15000\n[policy.auth]\nenabled = true\n';
    const out = editToml(text, { 'policy.dlp': { rules: null }, 'policy.auth': { enabled: false, gone: null } });
    expect(out).toBe('[policy.dlp]\nbudget_ms = 15000\n[policy.auth]\nenabled = false\n');
  });
});
