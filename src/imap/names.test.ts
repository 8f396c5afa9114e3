import { describe, expect, it } from 'vitest';
import { ancestors, canonicalName, invalidName, patternMatcher } from './names.js';

describe('mailbox names', () => {
  it('matches LIST patterns: * crosses levels, % does not', () => {
    const names = ['INBOX', 'INBOX/Sub', 'Work', 'Work/2024', 'Work/2024/Q1', 'Wörk'];
    const m = (p: string): string[] => names.filter(patternMatcher(p));
    expect(m('*')).toEqual(names);
    expect(m('%')).toEqual(['INBOX', 'Work', 'Wörk']);
    expect(m('Work/%')).toEqual(['Work/2024']);
    expect(m('W%k')).toEqual(['Work', 'Wörk']);
    expect(m('inbox')).toEqual(['INBOX']);
    expect(m('Inbox/*')).toEqual(['INBOX/Sub']);
    expect(m('*2024*')).toEqual(['Work/2024', 'Work/2024/Q1']);
  });

  it('stays fast on hostile patterns', () => {
    const long = `${'*a'.repeat(400)}b`;
    expect(patternMatcher(long)('a'.repeat(500))).toBe(false);
  });

  it('validates names and finds their parents', () => {
    expect(canonicalName('inbox/x')).toBe('INBOX/x');
    expect(canonicalName('inboxes')).toBe('inboxes');
    expect(invalidName('a//b')).toMatch(/empty hierarchy/);
    expect(invalidName('a\u0001')).toMatch(/not allowed/);
    expect(invalidName('Archiv/2024')).toBeNull();
    expect(ancestors('a/b/c')).toEqual(['a', 'a/b']);
  });
});
