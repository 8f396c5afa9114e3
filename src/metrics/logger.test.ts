import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The server logger acts on the process's stdout and exit, so each case runs in a child Node process.
const logger = path.resolve('dist/metrics/logger.js');

function run(body: string) {
  const script = `
    import { writeSync } from 'node:fs';
    import { createServerLogger } from ${JSON.stringify(logger)};
    const logs = createServerLogger('info');
    ${body}
  `;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
}

const messages = (stdout: string): string[] =>
  stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (l.startsWith('{') ? String((JSON.parse(l) as { msg: string }).msg) : l));

describe('the server logger (buffered, written off the event loop)', () => {
  it('has written a line logged just before the shutdown once flush resolves', () => {
    const r = run(`
      for (let i = 0; i < 100; i++) logs.log.info({ i }, 'busy');
      logs.log.info('shutting down');
      logs.flush().then(() => { writeSync(1, 'AFTER FLUSH\\n'); process.exit(0); });
    `);
    expect(r.status).toBe(0);
    const lines = messages(r.stdout);
    expect(lines).toHaveLength(102);
    expect(lines.slice(-2)).toEqual(['shutting down', 'AFTER FLUSH']);
  });

  it('keeps the lines of a process that exits at once (the fatal path)', () => {
    const r = run(`
      logs.log.info('first');
      logs.log.fatal('uncaught exception');
      logs.flushSync();
      process.exit(70);
    `);
    expect(r.status).toBe(70);
    expect(messages(r.stdout)).toEqual(['first', 'uncaught exception']);
  });

  it('keeps the lines of a process that calls process.exit without flushing', () => {
    const r = run(`logs.log.warn('last words'); process.exit(3);`);
    expect(r.status).toBe(3);
    expect(messages(r.stdout)).toEqual(['last words']);
  });

  it('resolves flush when nothing is buffered', () => {
    const r = run(`logs.flush().then(() => { writeSync(1, 'done\\n'); });`);
    expect(r.status).toBe(0);
    expect(messages(r.stdout)).toEqual(['done']);
  });
});
