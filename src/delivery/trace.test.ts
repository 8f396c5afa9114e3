import { describe, expect, it } from 'vitest';
import { withDeliveryFields } from './trace.js';

const text = (b: Buffer) => b.toString('latin1');

describe('delivery fields', () => {
  it('puts Return-Path and Delivered-To first and keeps the message byte for byte', () => {
    const msg = Buffer.from('Received: from x\r\n\tby y; Mon, 1 Jan 2024 00:00:00 +0000\r\nFrom: a@b.test\r\nSubject: hi\r\n\r\nbody\r\n');
    expect(text(withDeliveryFields(msg, 'a@b.test', 'ann@example.test'))).toBe(`Return-Path: <a@b.test>\r\nDelivered-To: ann@example.test\r\n${text(msg)}`);
  });

  it('writes <> for the null sender', () => {
    expect(text(withDeliveryFields(Buffer.from('Subject: bounce\r\n\r\n'), '', 'ann@example.test'))).toMatch(/^Return-Path: <>\r\nDelivered-To: ann@example.test\r\nSubject: bounce\r\n/);
  });

  it('removes every Return-Path of the message, folded lines too, and only in the header section', () => {
    const msg = 'Received: from x\r\nreturn-path : <forged@evil.test>\r\n\t(folded)\r\nFrom: a@b.test\r\nRETURN-PATH:<again@evil.test>\r\nX-Return-Path: kept\r\n\r\nReturn-Path: <in the body>\r\n';
    const out = text(withDeliveryFields(Buffer.from(msg), 'real@b.test', 'ann@example.test'));
    expect(out).toBe('Return-Path: <real@b.test>\r\nDelivered-To: ann@example.test\r\nReceived: from x\r\nFrom: a@b.test\r\nX-Return-Path: kept\r\n\r\nReturn-Path: <in the body>\r\n');
  });

  it('keeps line breaks and control bytes out of the fields it writes', () => {
    const out = text(withDeliveryFields(Buffer.from('Subject: x\r\n\r\n'), 'a\r\nBcc: x@evil.test@b.test', 'ann@example.test\n'));
    expect(out.split('\r\n').slice(0, 3)).toEqual(['Return-Path: <aBcc:x@evil.test@b.test>', 'Delivered-To: ann@example.test', 'Subject: x']);
  });

  it('writes UTF-8 addresses (RFC 6531) as UTF-8', () => {
    const out = withDeliveryFields(Buffer.from('Subject: x\r\n\r\n'), 'jösé@example.test', 'rené@example.test\u0085');
    expect(out.toString('utf8').split('\r\n').slice(0, 2)).toEqual(['Return-Path: <jösé@example.test>', 'Delivered-To: rené@example.test']);
  });

  it('takes a header section of 100,000 fields in one pass', () => {
    const msg = Buffer.from('X-A: 1\r\n'.repeat(100_000) + 'Return-Path: <x@y.test>\r\n\r\nbody\r\n');
    const out = withDeliveryFields(msg, 's@b.test', 'r@example.test');
    expect(out.length).toBe(msg.length - 'Return-Path: <x@y.test>\r\n'.length + 'Return-Path: <s@b.test>\r\nDelivered-To: r@example.test\r\n'.length);
  });
});
