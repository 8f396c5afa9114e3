/**
 * Maintenance and outages: the declared windows and those scheduled in the
 * config (as `postern maintenance list`), declaring one now with a reason and
 * an optional planned end, ending the open one (the command line's code in
 * `store/maintenance.ts`), and the outages of the last 7 or 30 days from the
 * same data as the report's availability section. mailadmin acts, the
 * auditor looks; every declaration and end is audited.
 */
import type { Hono } from 'hono';
import { endMaintenance, listedWindows, MAINTENANCE, MAX_REASON, NO_SCHEDULE, startMaintenance } from '../../store/maintenance.js';
import { buildReport } from '../report/build.js';
import { duration, value as fmtValue, when } from '../report/format.js';
import { badInput, refuse } from './acting.js';
import { audit, field, requireRole, type ConsoleDeps, type ConsoleEnv } from './context.js';
import { escapeHtml as e, form, page } from './html.js';
import { navFor } from './nav.js';

const DAYS = ['7', '30'] as const;
/** What a datetime-local field sends, read as UTC. */
const LOCAL_TIME_RE = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?$/;

export function mountMaintenancePages(app: Hono<ConsoleEnv>, d: ConsoleDeps): void {
  const meta = d.store.meta;

  app.get('/console/maintenance', async (c) => {
    const s = await requireRole(c, d, ['mailadmin', 'auditor'], 'Maintenance');
    if (s instanceof Response) return s;
    const days = c.req.query('days') ?? '7';
    if (!(DAYS as readonly string[]).includes(days)) return badInput(c, 'days must be 7 or 30');
    const now = d.clock.now();
    const [windows, report] = await Promise.all([
      listedWindows(meta.events, d.schedule ?? NO_SCHEDULE, now),
      buildReport(
        { events: meta.events, deliveryTimes: meta.deliveryTimes, queue: meta.queue },
        { since: now - Number(days) * 86_400_000, until: now, now, slaTargetPct: d.slaTargetPct, ...(d.schedule ? { schedule: d.schedule } : {}) },
      ),
    ]);
    const open = windows.find((w) => w.source !== 'scheduled' && w.to === null);
    const rows = windows
      .map(
        (w) =>
          `<tr><td class="when">${e(when(w.from))}</td><td class="when">${e(w.to === null ? `open${w.plannedEnd !== undefined ? `, planned end ${when(w.plannedEnd)}` : ''}` : when(w.to))}</td><td>${e(w.source ?? 'declared')}</td><td>${e(w.reason)}</td></tr>`,
      )
      .join('');
    const act = !s.roles.includes('mailadmin')
      ? '<p class="muted">Your role may look, not act.</p>'
      : open
        ? form(s, '/console/maintenance/end', '<button type="submit" id="maintenance-end">End the open window</button>')
        : form(
            s,
            '/console/maintenance/start',
            `<label>Reason <input type="text" name="reason" maxlength="${MAX_REASON}"></label><label>Planned end (UTC, optional) <input type="datetime-local" name="until"></label><button type="submit" id="maintenance-start">Declare maintenance now</button>`,
          );
    const a = report.availability;
    const outages = a.outageList
      .map((o) => `<tr><td class="when">${e(when(o.from))}</td><td class="when">${e(when(o.to))}</td><td>${e(duration(o.msInWindow))}</td><td>${e(o.node)}</td><td>${e(o.cause)}</td><td>${o.planned ? 'yes' : 'no'}</td></tr>`)
      .join('');
    const links = DAYS.map((k) => (k === days ? `<b>${k} d</b>` : `<a href="/console/maintenance?days=${k}">${k} d</a>`)).join(' · ');
    const body = [
      `<p>Downtime inside a window counts as planned, not as an outage.</p>`,
      `<table id="windows"><tr><th>From</th><th>To</th><th>Source</th><th>Reason</th></tr>${rows}</table>`,
      windows.length ? '' : '<p>No maintenance window recorded or scheduled.</p>',
      act,
      `<h2>Outages</h2><p>Last ${links}: availability ${e(fmtValue(a.availabilityPct.value, 'pct'))} (SLA ${a.sla.targetPct}% ${a.sla.met ? 'met' : 'missed'}), unplanned downtime ${e(duration(a.unplannedMs.value ?? 0))}, ${e(fmtValue(a.unplannedOutages.value, 'count'))} unplanned and ${e(fmtValue(a.plannedOutages.value, 'count'))} planned outage(s).</p>`,
      outages
        ? `<table id="outages"><tr><th>From</th><th>To</th><th>In window</th><th>Node</th><th>Cause</th><th>Planned</th></tr>${outages}</table>`
        : '<p>No outages in the window.</p>',
    ].join('');
    return c.html(page('Maintenance and outages', s, body, navFor(s)));
  });

  app.post('/console/maintenance/start', async (c) => {
    const s = await requireRole(c, d, ['mailadmin'], 'Declaring maintenance');
    if (s instanceof Response) return s;
    const reason = field(c, 'reason').trim().slice(0, MAX_REASON);
    const until = field(c, 'until').trim();
    let plannedEnd: number | undefined;
    if (until) {
      const m = LOCAL_TIME_RE.exec(until);
      plannedEnd = m ? Date.parse(`${m[1]}T${m[2]}${m[3] ?? ''}Z`) : NaN;
      if (Number.isNaN(plannedEnd)) return badInput(c, 'the planned end must be a date and time like 2026-05-01T18:30 (UTC)');
    }
    const refused = await startMaintenance(meta.events, { reason, actor: s.address!, ...(plannedEnd !== undefined ? { plannedEnd } : {}) }, d.clock.now());
    if (refused) return refuse(c, d, s.address!, 'maintenance.start', MAINTENANCE, refused);
    await audit(d, s.address!, 'maintenance.start', MAINTENANCE, { reason, ...(plannedEnd !== undefined ? { plannedEnd } : {}) });
    return c.redirect('/console/maintenance', 303);
  });

  app.post('/console/maintenance/end', async (c) => {
    const s = await requireRole(c, d, ['mailadmin'], 'Ending maintenance');
    if (s instanceof Response) return s;
    const refused = await endMaintenance(meta.events, s.address!, d.clock.now());
    if (refused) return refuse(c, d, s.address!, 'maintenance.end', MAINTENANCE, refused);
    await audit(d, s.address!, 'maintenance.end', MAINTENANCE);
    return c.redirect('/console/maintenance', 303);
  });
}
