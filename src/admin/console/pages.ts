/**
 * The console's pages: overview (C, I and A now and over the last 24 hours,
 * 7 or 30 days, from the same store data as `postern report`), the
 * quarantine (list, verdicts, release, delete) and the audit log. Each checks the role
 * it needs; every view of mail or of the audit log and every action is audited.
 */
import type { Hono } from 'hono';
import { headerValue, parseHeaderSection } from '../../codec/mime/header.js';
import { heldForEncryption } from '../../policy/dlp/index.js';
import type { QuarantineEntry, StoreEvent } from '../../store/types.js';
import { buildReport } from '../report/build.js';
import { value as fmtValue, when } from '../report/format.js';
import { stackedBars } from '../report/svg.js';
import type { Report } from '../report/types.js';
import { audit, htmlError, requireRole, type ConsoleDeps, type ConsoleEnv, type Ctx } from './context.js';
import { escapeHtml as e, form, page } from './html.js';
import { ADMIN_ROLES } from './codes.js';
import { navFor } from './nav.js';
import type { Session } from './sessions.js';

const QUEUE_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;
const RANGES = { '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 } as const;
type Range = keyof typeof RANGES;
/**
 * How long one overview stays served: building it reads every event of the range (seconds for a busy month
 * on SQLite), so concurrent and repeated loads share one computation per range, refreshed at most this often.
 */
const OVERVIEW_TTL_MS: Record<Range, number> = { '24h': 10_000, '7d': 60_000, '30d': 300_000 };

const card = (label: string, v: string, note = ''): string => `<div class="card">${e(label)}<b>${e(v)}</b>${note ? `<small class="muted">${e(note)}</small>` : ''}</div>`;

/** The latest `postern audit` as recorded (posture.audited): counts and the findings that were not a pass. */
export function postureSection(ev: StoreEvent | undefined): string {
  if (!ev) return '<h2>Posture</h2><p class="muted">No audit recorded yet: run <code>postern audit</code> (a cron job, for instance).</p>';
  const n = (k: string) => (typeof ev.data[k] === 'number' ? (ev.data[k] as number) : 0);
  const findings = Array.isArray(ev.data.findings) ? (ev.data.findings as { id?: unknown; grade?: unknown; reason?: unknown; fix?: unknown }[]) : [];
  const rows = findings
    .filter((f) => f.grade === 'fail' || f.grade === 'warn')
    .map((f) => `<tr class="${f.grade === 'fail' ? 'error' : ''}"><td>${e(String(f.grade))}</td><td>${e(String(f.id))}</td><td>${e(String(f.reason ?? ''))}</td><td>${e(String(f.fix ?? ''))}</td></tr>`)
    .join('');
  return [
    '<h2>Posture</h2><div class="cards">',
    card('Last audit', when(ev.at)),
    card('Failed checks', String(n('fail')), n('fail') > 0 ? 'an alert was raised' : ''),
    card('Warnings', String(n('warn'))),
    card('Passed', String(n('pass'))),
    '</div>',
    rows ? `<table id="posture"><tr><th>Grade</th><th>Check</th><th>Finding</th><th>Fix</th></tr>${rows}</table>` : '',
  ].join('');
}

function overviewBody(r: Report, range: Range, builtAt: number): string {
  const c = r.confidentiality;
  const i = r.integrity;
  const a = r.availability;
  const s = r.series;
  const day = s.bucketMs >= 86_400_000;
  const labels = s.starts.map((t) => new Date(t).toISOString().slice(day ? 5 : 11, day ? 10 : 16));
  const links = (Object.keys(RANGES) as Range[]).map((k) => (k === range ? `<b>${k}</b>` : `<a href="/console/overview?range=${k}">${k}</a>`)).join(' · ');
  return [
    `<p>Last ${e(range)}: ${e(when(r.window.since))} – ${e(when(r.window.until))} (${links}); computed ${e(when(builtAt))}, at most every ${OVERVIEW_TTL_MS[range] / 1000} s</p>`,
    '<h2>Confidentiality</h2><div class="cards">',
    card('Inbound messages', fmtValue(c.inbound.messages.value, 'count')),
    card('Inbound over TLS', fmtValue(c.inbound.tlsSharePct.value, 'pct')),
    card('Submitted messages', fmtValue(c.submission.messages.value, 'count')),
    card('Outbound over TLS', fmtValue(c.outbound.tlsSharePct.value, 'pct')),
    card('TLS failures', fmtValue(c.tlsFailures.total.value, 'count')),
    '</div>',
    stackedBars('Messages accepted over SMTP, by TLS version', labels, s.messagesByTls.map((m) => ({ name: m.tls, values: m.counts }))),
    '<h2>Integrity</h2><div class="cards">',
    card('Bits repaired', fmtValue(i.corrected.value, 'count')),
    card('Damaged blobs', fmtValue(i.uncorrectable.value, 'count')),
    card('Spoofed', fmtValue(i.spoofed.total.value, 'count')),
    card('Malware', fmtValue(i.malware.total.value, 'count')),
    card('Last scrub', i.lastScrub.at === null ? 'never' : when(i.lastScrub.at)),
    '</div>',
    stackedBars('Repaired bits', labels, [{ name: 'corrected', values: s.corrections }]),
    '<h2>Availability</h2><div class="cards">',
    card('Availability', fmtValue(a.availabilityPct.value, 'pct'), `SLA ${a.sla.targetPct}% ${a.sla.met ? 'met' : 'missed'}`),
    card('Outages', fmtValue(a.outages.value, 'count')),
    card('Queue now', String(a.queueNow.messages), `${a.queueNow.recipients} recipient(s)`),
    '</div>',
    stackedBars('Unplanned downtime', labels, [{ name: 'downtime', values: s.unplannedMs.map((ms) => ms / 60_000) }], ' min'),
  ].join('');
}

const mine = (s: Session, q: QuarantineEntry): boolean => q.recipients.some((r) => r.toLowerCase() === s.address);

export function mountPages(app: Hono<ConsoleEnv>, d: ConsoleDeps): void {
  const meta = d.store.meta;
  /**
   * Who may release or delete: the same rule as the command line, [policy] release_roles (default auditor):
   * an account with one of its administrator roles any held message, and, when it names 'user', a user their own.
   */
  const mayAct = (s: Session, q: QuarantineEntry): boolean =>
    s.roles.some((r) => r !== 'user' && d.releaseRoles.includes(r)) || (s.roles.includes('user') && d.releaseRoles.includes('user') && mine(s, q));
  /** Who may see a message: mailadmin and auditor all, a user their own. */
  const maySee = (s: Session, q: QuarantineEntry): boolean => s.roles.includes('mailadmin') || s.roles.includes('auditor') || mine(s, q);
  const overviews = new Map<Range, { at: number; report: Promise<Report> }>();
  const overviewOf = (range: Range): { at: number; report: Promise<Report> } => {
    const now = d.clock.now();
    const hit = overviews.get(range);
    if (hit && now - hit.at < OVERVIEW_TTL_MS[range]) return hit;
    const entry = {
      at: now,
      report: buildReport(
        { events: meta.events, deliveryTimes: meta.deliveryTimes, queue: meta.queue },
        { since: now - RANGES[range], until: now, now, slaTargetPct: d.slaTargetPct, ...(d.schedule ? { schedule: d.schedule } : {}) },
      ),
    };
    overviews.set(range, entry);
    // A failed build is not kept: the next load tries again.
    entry.report.catch(() => overviews.get(range) === entry && overviews.delete(range));
    return entry;
  };

  app.get('/console/overview', async (c) => {
    const s = await requireRole(c, d, ADMIN_ROLES, 'The overview');
    if (s instanceof Response) return s;
    const raw = c.req.query('range') ?? '24h';
    if (!(raw in RANGES)) return htmlError(c, 400, 'Bad request', 'range must be 24h, 7d or 30d');
    const range = raw as Range;
    const entry = overviewOf(range);
    const [report, [posture]] = await Promise.all([entry.report, meta.events.list('posture.audited', 1)]);
    return c.html(page('Overview', s, overviewBody(report, range, entry.at) + postureSection(posture), navFor(s)));
  });

  app.get('/console/quarantine', async (c) => {
    const s = await requireRole(c, d, ['mailadmin', 'auditor', 'user'], 'The quarantine');
    if (s instanceof Response) return s;
    const all = c.req.query('all') === '1';
    const rows = (await meta.quarantine.list({ ...(all ? {} : { state: 'held' as const }), limit: 500 })).filter((q) => maySee(s, q));
    const body = rows.length
      ? `<table><tr><th>Held</th><th>Stage</th><th>Reason</th><th>From</th><th>To</th><th>State</th></tr>${rows
          .map(
            (q) =>
              `<tr><td><a href="/console/quarantine/${e(encodeURIComponent(q.queueId))}">${e(when(q.at))}</a></td><td>${e(q.stage)}</td><td>${e(q.reason)}</td><td>${e(q.sender || '<>')}</td><td>${e(q.recipients.join(', '))}</td><td>${e(q.state)}${q.actor ? ` by ${e(q.actor)}` : ''}</td></tr>`,
          )
          .join('')}</table>`
      : `<p>${all ? 'The quarantine is empty.' : 'No message is held.'}</p>`;
    const toggle = all ? '<a href="/console/quarantine">held only</a>' : '<a href="/console/quarantine?all=1">also released and deleted</a>';
    return c.html(page('Quarantine', s, `<p>${toggle}</p>${body}`, navFor(s)));
  });

  const entryFor = async (c: Ctx, s: Session): Promise<QuarantineEntry | Response> => {
    const id = c.req.param('id') ?? '';
    if (!QUEUE_ID_RE.test(id)) return htmlError(c, 400, 'Bad request', 'not a queue id');
    const q = await meta.quarantine.get(id);
    // Someone else's message answers like a missing one: its existence is not the user's business.
    if (!q || !maySee(s, q)) return htmlError(c, 404, 'Not found', `${id} is not in the quarantine`);
    return q;
  };

  app.get('/console/quarantine/:id', async (c) => {
    const s = await requireRole(c, d, ['mailadmin', 'auditor', 'user'], 'The quarantine');
    if (s instanceof Response) return s;
    const q = await entryFor(c, s);
    if (q instanceof Response) return q;
    await audit(d, s.address!, 'quarantine.show', q.queueId, { recipients: q.recipients });
    const m = await meta.queue.getMessage(q.queueId);
    const head = m ? await d.store.blobs.get(m.blobId).then((b) => parseHeaderSection(b.subarray(0, 64 * 1024)).fields, () => []) : [];
    const headers = ['From', 'To', 'Subject', 'Date', 'Message-ID']
      .map((k) => [k, headerValue(head, k)] as const)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => `<tr><th>${e(k)}</th><td>${e(v!)}</td></tr>`)
      .join('');
    const verdicts = (m?.verdicts ?? [])
      .map((v) => `<tr><td>${e(v.stage)}</td><td>${e(v.action)}</td><td>${e(v.reasons.map((r) => [r.rule, r.detail, r.engine, r.signature, r.part].filter(Boolean).join(' ')).join('; '))}</td></tr>`)
      .join('');
    const actions =
      q.state === 'held' && mayAct(s, q)
        ? form(s, `/console/quarantine/${encodeURIComponent(q.queueId)}/release`, '<button type="submit" id="release">Release</button>', 'class="inline"') +
          ' ' +
          form(s, `/console/quarantine/${encodeURIComponent(q.queueId)}/delete`, '<button type="submit" id="delete">Delete</button>', 'class="inline"')
        : `<p class="muted">${q.state === 'held' ? 'Your role may look, not act.' : `${e(q.state)} by ${e(q.actor ?? '?')} at ${e(q.actedAt === null ? '-' : when(q.actedAt))}`}</p>`;
    const body = [
      `<table><tr><th>Queue id</th><td>${e(q.queueId)}</td></tr><tr><th>Held</th><td>${e(when(q.at))} by ${e(q.stage)}: ${e(q.reason)}</td></tr>`,
      `<tr><th>Envelope</th><td>&lt;${e(q.sender)}&gt; → ${e(q.recipients.map((r) => `<${r}>`).join(' '))}</td></tr><tr><th>Size</th><td>${q.size} bytes</td></tr>${headers}</table>`,
      `<h2>Verdicts</h2><table><tr><th>Stage</th><th>Action</th><th>Reasons</th></tr>${verdicts}</table>`,
      actions,
    ].join('');
    return c.html(page(`Held message ${q.queueId}`, s, body, navFor(s)));
  });

  for (const verb of ['release', 'delete'] as const) {
    app.post(`/console/quarantine/:id/${verb}`, async (c) => {
      const s = await requireRole(c, d, [...ADMIN_ROLES, 'user'], `To ${verb} held mail`);
      if (s instanceof Response) return s;
      const q = await entryFor(c, s);
      if (q instanceof Response) return q;
      if (!mayAct(s, q)) {
        await audit(d, s.address!, 'console.refused', c.req.path, { method: 'POST' });
        return htmlError(c, 403, 'Not allowed', `${s.address} may not ${verb} this message.`);
      }
      if (verb === 'release' && heldForEncryption(q)) {
        // It would leave unencrypted: only `postern quarantine release --clear` does that, on purpose.
        await audit(d, s.address!, 'quarantine.release', q.queueId, { result: 'refused', reason: 'held for encryption; use the command line with --clear' });
        return htmlError(c, 403, 'Held for encryption', `${q.queueId} had to be sent encrypted and a recipient has no certificate; releasing it would send it in clear. Import the certificate and have the sender send it again, or release it with postern quarantine release --clear.`);
      }
      const now = d.clock.now();
      const done = verb === 'release' ? await meta.quarantine.release(q.queueId, s.address!, now) : await meta.quarantine.delete(q.queueId, s.address!, now);
      if (!done) return htmlError(c, 404, 'Not held', `${q.queueId} is no longer held.`);
      await meta.events.record(verb === 'release' ? 'quarantine.released' : 'quarantine.deleted', q.queueId, { actor: s.address }, now);
      await audit(d, s.address!, `quarantine.${verb}`, q.queueId, { recipients: q.recipients });
      return c.redirect(`/console/quarantine/${encodeURIComponent(q.queueId)}`, 303);
    });
  }

  app.get('/console/audit', async (c) => {
    const s = await requireRole(c, d, ['auditor'], 'The audit log');
    if (s instanceof Response) return s;
    const days = c.req.query('days') ?? '1';
    if (!/^(1|7|30)$/.test(days)) return htmlError(c, 400, 'Bad request', 'days must be 1, 7 or 30');
    const now = d.clock.now();
    await audit(d, s.address!, 'audit.view', 'audit_log', { days: Number(days) });
    const rows = (await meta.audit.list({ since: now - Number(days) * 86_400_000, limit: 1000 })).reverse();
    const links = ['1', '7', '30'].map((k) => (k === days ? `<b>${k} d</b>` : `<a href="/console/audit?days=${k}">${k} d</a>`)).join(' · ');
    const body = `<p>Newest first (${links}); the chain and its signed checkpoints are checked by <code>postern audit-log verify</code>.</p><table id="audit"><tr><th>#</th><th>When</th><th>Actor</th><th>Action</th><th>Subject</th><th>Data</th></tr>${rows
      .map((r) => `<tr><td>${r.seq}</td><td class="when">${e(when(r.at))}</td><td>${e(r.actor)}</td><td>${e(r.action)}</td><td>${e(r.subject)}</td><td><code>${e(JSON.stringify(r.data))}</code></td></tr>`)
      .join('')}</table>`;
    return c.html(page('Audit log', s, body, navFor(s)));
  });
}
