import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The guard acts on the whole process, so each case runs in a child Node process.
const guard = path.resolve('dist/cli/process-guard.js');

function run(body: string) {
  const script = `
    import { installProcessGuard } from ${JSON.stringify(guard)};
    const lines = [];
    const log = { error: (o, m) => lines.push(['error', m]), fatal: (o, m) => lines.push(['fatal', m]) };
    const events = [];
    const g = installProcessGuard(log, async (kind, data) => { events.push([kind, data.count]); }, (code) => { console.log(JSON.stringify({ lines, events, code })); process.exit(code); });
    ${body}
  `;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
}

describe('process guard', () => {
  it('logs, counts and records an unhandled rejection, and the process keeps running', () => {
    const r = run(`
      Promise.reject(new Error('boom'));
      Promise.reject('plain');
      setTimeout(() => { console.log(JSON.stringify({ lines, events, unhandled: g.unhandled })); }, 100);
    `);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as { lines: string[][]; events: unknown[]; unhandled: number };
    expect(out.unhandled).toBe(2);
    expect(out.events).toEqual([
      ['process.unhandled_rejection', 1],
      ['process.unhandled_rejection', 2],
    ]);
    expect(out.lines.every(([level]) => level === 'error')).toBe(true);
  });

  it('exits with 70 on an uncaught exception, after logging it', () => {
    const r = run(`setTimeout(() => { throw new Error('sync bug'); }, 10); setTimeout(() => {}, 5000);`);
    expect(r.status).toBe(70);
    const out = JSON.parse(r.stdout.trim()) as { lines: string[][]; code: number };
    expect(out.lines[0]?.[0]).toBe('fatal');
  });
});
