import type { Command } from 'commander';
import { MAINTENANCE, declaredWindows as maintenanceWindows, scheduledWindows } from '../../store/maintenance.js';
import { resolveConfigPath, UsageError, withStore } from '../context.js';
import { audited, cliActor } from '../audit.js';

const cfg = (cmd: Command): string => resolveConfigPath((cmd.optsWithGlobals() as { config?: string }).config);
const iso = (ms: number | null): string => (ms === null ? 'open' : new Date(ms).toISOString());

/**
 * Declared maintenance windows: downtime inside one counts as planned, not
 * as an outage. Recorded as events, so any later window of time can be judged.
 */
export function registerMaintenanceCommands(program: Command): void {
  const m = program.command('maintenance').description('declared maintenance windows (planned downtime)');
  m.command('start')
    .description('open a maintenance window now')
    .option('--reason <text>', 'why', '')
    .action(async (o: { reason: string }, cmd: Command) => {
      await withStore(cfg(cmd), async (s) => {
        const open = (await maintenanceWindows(s.meta.events)).at(-1);
        if (open && open.to === null) throw new UsageError(`a maintenance window is open since ${iso(open.from)}`);
        await s.meta.events.record('maintenance.start', MAINTENANCE, { reason: o.reason.slice(0, 500), actor: cliActor() }, Date.now());
        await audited(s, 'maintenance.start', MAINTENANCE, { reason: o.reason.slice(0, 500) });
      });
      console.log('maintenance window opened');
    });
  m.command('end')
    .description('close the open maintenance window')
    .action(async (_o, cmd: Command) => {
      await withStore(cfg(cmd), async (s) => {
        const open = (await maintenanceWindows(s.meta.events)).at(-1);
        if (!open || open.to !== null) throw new UsageError('no maintenance window is open');
        await s.meta.events.record('maintenance.end', MAINTENANCE, { actor: cliActor() }, Date.now());
        await audited(s, 'maintenance.end', MAINTENANCE);
      });
      console.log('maintenance window closed');
    });
  m.command('list')
    .description('declared maintenance windows, oldest first, then those scheduled in the config for the next 14 days')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const windows = await withStore(cfg(cmd), async (s, config) => {
        const now = Date.now();
        return [...(await maintenanceWindows(s.meta.events)), ...scheduledWindows(config.maintenance, now, now + 14 * 86_400_000)];
      });
      if (o.json) return void console.log(JSON.stringify(windows, null, 2));
      if (windows.length === 0) return void console.log('no maintenance window recorded or scheduled');
      for (const w of windows) console.log(`${iso(w.from)}  ${iso(w.to)}  ${(w.source ?? 'declared').padEnd(9)}  ${w.reason}`);
    });
}
