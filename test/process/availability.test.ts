/**
 * Downtime as the next start measures it: a SIGKILL leaves no stop, so the
 * outage runs from the killed run's last heartbeat to the restart; a clean
 * stop inside a declared maintenance window counts as planned.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { openStore } from '../../src/store/index.js';
import { cli, makeInstallation, startServer, type Installation } from './postern-process.js';

let inst: Installation;
beforeAll(async () => {
  inst = await makeInstallation('example.test', '', { heartbeat: 1 });
}, 60_000);
afterAll(() => inst?.cleanup());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function downtimes(): Promise<Record<string, unknown>[]> {
  const store = await openStore({ backend: 'sqlite', dataDir: path.join(inst.dir, 'data') });
  try {
    return (await store.meta.events.list('availability.downtime')).reverse().map((e) => e.data);
  } finally {
    await store.close();
  }
}

describe('availability: downtime after a kill and during maintenance', () => {
  it('measures a SIGKILL and restart from the last heartbeat, and a maintenance stop as planned', async () => {
    let server = await startServer(inst);
    await sleep(2500); // at least two heartbeats
    const killedAt = Date.now();
    await server.kill('SIGKILL');
    await sleep(3000);
    const restartAt = Date.now();
    server = await startServer(inst);
    const startedAt = Date.now();
    const [crash] = await downtimes();
    expect(crash).toMatchObject({ cause: 'unclean_stop', planned: false });
    const ms = crash!.ms as number;
    // From the last heartbeat (at most 1 s before the kill) to the restart's start.
    expect(ms).toBeGreaterThanOrEqual(restartAt - killedAt);
    expect(ms).toBeLessThanOrEqual(startedAt - killedAt + 1500);

    expect(cli(inst, ['maintenance', 'start', '--reason', 'kernel update']).status).toBe(0);
    await server.kill('SIGTERM');
    await sleep(1000);
    server = await startServer(inst);
    expect(cli(inst, ['maintenance', 'end']).status).toBe(0);
    await server.kill('SIGTERM');
    const all = await downtimes();
    expect(all[1]).toMatchObject({ cause: 'stopped', planned: true });
    expect(all).toHaveLength(2);
    const windows = JSON.parse(cli(inst, ['maintenance', 'list', '--json']).stdout) as { reason: string; to: number | null }[];
    expect(windows).toMatchObject([{ reason: 'kernel update' }]);
    expect(windows[0]!.to).not.toBeNull();
    const audit = JSON.parse(cli(inst, ['audit-log', 'show', '--action', 'maintenance.start', '--json']).stdout) as { action: string; data: { reason: string } }[];
    expect(audit).toMatchObject([{ action: 'maintenance.start', data: { reason: 'kernel update' } }]);
    expect(cli(inst, ['audit-log', 'verify']).status).toBe(0);
  });
});
