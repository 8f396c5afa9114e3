import { describe, expect, it } from 'vitest';
import { basicHeaders, inbound, message, results, run } from './helpers.js';

const check = (extra: string[], envelope: string, auth?: { spf: string; dmarc: string; dkimAlignedPass: boolean }) =>
  results(run(message(basicHeaders('Jim <jim@vendor.test>', extra)), inbound(envelope, auth ? { auth } : {}), undefined, 'reply-to'));

describe('reply-to', () => {
  it('flags a Reply-To of another organisation', () => {
    expect(check(['Reply-To: jim.vendor@freemail.example'], 'jim@vendor.test')).toEqual(['reply-to=reply-to-other-org']);
  });

  it('flags a Return-Path of another organisation', () => {
    expect(check([], 'x@bulk-elsewhere.example')).toEqual(['reply-to=return-path-other-org']);
  });

  it('accepts the same organisation, subdomains included', () => {
    expect(check(['Reply-To: sales@eu.vendor.test'], 'bounces@mail.vendor.test')).toEqual([]);
  });

  it('accepts the null sender, lists, list replies and an authenticated From', () => {
    expect(check([], '')).toEqual([]);
    expect(check(['List-Id: Users <users.lists.project.test>', 'Reply-To: users@lists.project.test'], 'owner-users@lists.project.test')).toEqual([]);
    expect(check(['List-Unsubscribe: <mailto:leave@esp.test>'], 'b-123@esp.test')).toEqual([]);
    expect(check([], 'b-123@esp.test', { spf: 'pass', dmarc: 'pass', dkimAlignedPass: true })).toEqual([]);
  });

  it('still flags a Reply-To that is not the list', () => {
    expect(check(['List-Id: <users.lists.project.test>', 'Reply-To: win@prize.example'], 'jim@vendor.test')).toEqual(['reply-to=reply-to-other-org']);
  });

  it('ignores mail from inside', () => {
    const raw = message(basicHeaders('me@example.test', ['Reply-To: me@private.test']));
    expect(run(raw, inbound('me@example.test', { listener: 'submission', authUser: 'me@example.test' }), undefined, 'reply-to')).toEqual([]);
  });
});
