import { describe, expect, it } from 'vitest';
import { formatAudit, runAudit } from './audit.js';
import type { PostureContext } from './context.js';
import type { CheckResult } from './types.js';

const ctx = { now: 1_000 } as PostureContext;
const check = (id: string, area: string, grade: CheckResult['grade'], fix = ''): CheckResult => ({ id, area, grade, reason: `reason of ${id}`, fix });

describe('runAudit', () => {
  it('counts grades and turns a group that throws into one failed check naming it', async () => {
    const tls = () => Promise.resolve([check('tls.a', 'tls', 'pass'), check('tls.b', 'tls', 'warn', 'do b')]);
    const broken = async function roleChecks(): Promise<CheckResult[]> {
      await Promise.resolve();
      throw new Error('the store is locked');
    };
    const r = await runAudit(ctx, [tls, broken]);
    expect(r.summary).toEqual({ pass: 1, warn: 1, fail: 1 });
    expect(r.checks[2]).toMatchObject({ id: 'posture.roleChecks', grade: 'fail', reason: expect.stringContaining('the store is locked') as unknown });
  });
});

describe('formatAudit', () => {
  it('groups by area in first-seen order, worst first, with the fix under each finding and the counts', async () => {
    const r = await runAudit(ctx, [() => Promise.resolve([check('tls.ok', 'tls', 'pass'), check('roles.x', 'roles', 'warn', 'give it away'), check('tls.bad', 'tls', 'fail', 'renew')])]);
    const lines = formatAudit(r).split('\n');
    expect(lines[0]).toBe('tls');
    expect(lines[1]).toMatch(/^ {2}FAIL {2}tls\.bad +reason of tls\.bad$/);
    expect(lines[2]).toMatch(/^ +fix: renew$/);
    expect(lines[3]).toMatch(/^ {2}PASS {2}tls\.ok +reason of tls\.ok$/);
    expect(lines[4]).toBe('roles');
    expect(lines[5]).toMatch(/WARN {2}roles\.x/);
    expect(lines[6]).toMatch(/fix: give it away$/);
    expect(lines.at(-2)).toBe('1 passed, 1 warning(s), 1 failed');
  });
});
