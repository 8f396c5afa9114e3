import type { Command } from 'commander';
import { MAINTENANCE, MAX_REASON, endMaintenance, listedWindows, startMaintenance } from '../../store/maintenance.js';
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
    .option('--until <time>', 'when it is planned to end (ISO 8601); only shown, end it with `maintenance end`')
    .action(async (o: { reason: string; until?: string }, cmd: Command) => {
      const plannedEnd = o.until === undefined ? undefined : Date.parse(o.until);
      if (plannedEnd !== undefined && Number.isNaN(plannedEnd)) throw new UsageError(`--until: not a time: ${JSON.stringify(o.until)}`);
      await withStore(cfg(cmd), async (s) => {
        const refused = await startMaintenance(s.meta.events, { reason: o.reason, actor: cliActor(), ...(plannedEnd !== undefined ? { plannedEnd } : {}) }, Date.now());
        if (refused) throw new UsageError(refused);
        await audited(s, 'maintenance.start', MAINTENANCE, { reason: o.reason.slice(0, MAX_REASON), ...(plannedEnd !== undefined ? { plannedEnd } : {}) });
      });
      console.log('maintenance window opened');
    });
  m.command('end')
    .description('close the open maintenance window')
    .action(async (_o, cmd: Command) => {
      await withStore(cfg(cmd), async (s) => {
        const refused = await endMaintenance(s.meta.events, cliActor(), Date.now());
        if (refused) throw new UsageError(refused);
        await audited(s, 'maintenance.end', MAINTENANCE);
      });
      console.log('maintenance window closed');
    });
  m.command('list')
    .description('declared maintenance windows, oldest first, then those scheduled in the config for the next 14 days')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const windows = await withStore(cfg(cmd), async (s, config) => {
        return listedWindows(s.meta.events, config.maintenance, Date.now());
      });
      if (o.json) return void console.log(JSON.stringify(windows, null, 2));
      if (windows.length === 0) return void console.log('no maintenance window recorded or scheduled');
      for (const w of windows) {
        const planned = w.to === null && w.plannedEnd !== undefined ? `  (planned end ${new Date(w.plannedEnd).toISOString()})` : '';
        console.log(`${iso(w.from)}  ${iso(w.to)}  ${(w.source ?? 'declared').padEnd(9)}  ${w.reason}${planned}`);
      }
    });
}
