/**
 * The security views for mailadmin and auditor, over the last 24 hours or 7
 * days: integrity (last scrub and verified backup, damage found and
 * repaired, damaged blobs), spoofing (spoofed and forged mail by origin and
 * detector) and confidential mail (DLP matches by sender group and outside
 * domain). Each reads the same store data and builders as the command line
 * (`postern scrub --status` and `report`, `postern spoof report`, `postern
 * dlp report`); charts are the report's inline SVG. Read only.
 */
import type { Hono } from 'hono';
import { integrityMetrics } from '../../integrity/metrics.js';
import { buildDlpReport } from '../../policy/dlp/report.js';
import { buildSpoofReport } from '../../policy/spoof/report.js';
import type { EventBucket, Role, StoreEvent } from '../../store/types.js';
import { duration, int, when } from '../report/format.js';
import { integrity } from '../report/integrity.js';
import { bucketMsFor, collapse } from '../report/series.js';
import { stackedBars, type Stack } from '../report/svg.js';
import type { Span } from '../report/types.js';
import { htmlError, requireRole, type ConsoleDeps, type ConsoleEnv, type Ctx } from './context.js';
import { escapeHtml as e, page } from './html.js';
import { navFor } from './nav.js';

export const SECURITY_ROLES: readonly Role[] = ['mailadmin', 'auditor'];
const RANGES = { '24h': 86_400_000, '7d': 7 * 86_400_000 } as const;
type Range = keyof typeof RANGES;

const TABS = [
  ['/console/security/integrity', 'Integrity'],
  ['/console/security/spoofing', 'Spoofing'],
  ['/console/security/confidential', 'Confidential mail'],
] as const;

/** Damage and repair events listed on the integrity page, newest first. */
const DAMAGE_KINDS = ['integrity.corrected', 'integrity.uncorrectable', 'integrity.missing', 'integrity.metadata_damaged', 'integrity.backup_verify_failed'];
const MAX_LISTED = 100;

interface View {
  readonly range: Range;
  readonly window: Span;
  readonly previous: Span;
  readonly bucketMs: number;
  readonly labels: string[];
}

function viewOf(c: Ctx, now: number): View | Response {
  const raw = c.req.query('range') ?? '24h';
  if (!(raw in RANGES)) return htmlError(c, 400, 'Bad request', 'range must be 24h or 7d');
  const range = raw as Range;
  const window = { since: now - RANGES[range], until: now + 1 };
  const previous = { since: window.since - RANGES[range], until: window.since };
  const bucketMs = bucketMsFor(window);
  const day = bucketMs >= 86_400_000;
  const n = Math.max(1, Math.ceil((window.until - window.since) / bucketMs));
  const labels = Array.from({ length: n }, (_, i) => new Date(window.since + i * bucketMs).toISOString().slice(day ? 5 : 11, day ? 10 : 16));
  return { range, window, previous, bucketMs, labels };
}

/** One stack per value of `field`, one value per bucket (the series the charts draw). */
function stacks(v: View, buckets: readonly EventBucket[], field: string, max = 8): Stack[] {
  const rows = new Map<string, number[]>();
  for (const b of buckets) {
    const name = b.labels[field] ?? '-';
    const row = rows.get(name) ?? rows.set(name, new Array<number>(v.labels.length).fill(0)).get(name)!;
    const i = Math.round((b.start - v.window.since) / v.bucketMs);
    if (i >= 0 && i < row.length) row[i]! += b.count;
  }
  const total = (xs: readonly number[]) => xs.reduce((a, x) => a + x, 0);
  return [...rows].map(([name, values]) => ({ name, values })).sort((a, b) => total(b.values) - total(a.values)).slice(0, max);
}

/** All buckets of one kind as one series. */
const perBucket = (v: View, buckets: readonly EventBucket[]): readonly number[] => stacks(v, buckets.map((b) => ({ ...b, labels: {} })), 'all')[0]?.values ?? new Array<number>(v.labels.length).fill(0);

function frame(c: Ctx, title: string, path: string, v: View, body: string): string {
  const s = c.get('session')!;
  const tabs = TABS.map(([href, label]) => (href === path ? `<b>${e(label)}</b>` : `<a href="${href}?range=${v.range}">${e(label)}</a>`)).join(' · ');
  const ranges = (Object.keys(RANGES) as Range[]).map((k) => (k === v.range ? `<b>${k}</b>` : `<a href="${path}?range=${k}">${k}</a>`)).join(' · ');
  return page(title, s, `<p class="tabs">${tabs}</p><p>Last ${e(v.range)}: ${e(when(v.window.since))} – ${e(when(v.window.until))} (${ranges})</p>${body}`, navFor(s));
}

const card = (label: string, value: string, note = ''): string => `<div class="card">${e(label)}<b>${e(value)}</b>${note ? `<small class="muted">${e(note)}</small>` : ''}</div>`;
const vsPrevious = (now: number, before: number): string => `previous ${e(int(before))}${now === before ? '' : now > before ? ' ↑' : ' ↓'}`;
const table = (id: string, head: readonly string[], rows: readonly (readonly string[])[], none: string): string =>
  rows.length
    ? `<table id="${id}"><tr>${head.map((h) => `<th>${e(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((x) => `<td>${e(x)}</td>`).join('')}</tr>`).join('')}</table>`
    : `<p id="${id}" class="muted">${e(none)}</p>`;

/** What an integrity event says, in one line: the blob or file, and the detail it carries. */
function describe(ev: StoreEvent): string {
  const d = ev.data;
  const parts = [typeof d.area === 'string' ? `area ${d.area}` : '', typeof d.block === 'number' ? `block ${d.block}` : '', typeof d.detail === 'string' ? d.detail : '', typeof d.reason === 'string' ? d.reason : ''];
  return parts.filter(Boolean).join(', ').slice(0, 300);
}

export function mountSecurityPages(app: Hono<ConsoleEnv>, d: ConsoleDeps): void {
  const events = d.store.meta.events;
  const guarded = async (c: Ctx, what: string): Promise<View | Response> => {
    const s = await requireRole(c, d, SECURITY_ROLES, what);
    if (s instanceof Response) return s;
    return viewOf(c, d.clock.now());
  };

  app.get('/console/security', (c) => c.redirect(TABS[0][0], 303));

  app.get('/console/security/integrity', async (c) => {
    const v = await guarded(c, 'The integrity page');
    if (v instanceof Response) return v;
    const [metrics, corrected, damage, damaged, recent] = await Promise.all([
      integrityMetrics(d.store.meta),
      events.histogram('integrity.corrected', v.window.since, v.window.until, v.bucketMs, ['area']),
      Promise.all(['integrity.uncorrectable', 'integrity.missing'].map((k) => events.histogram(k, v.window.since, v.window.until, v.bucketMs, []))),
      d.store.meta.integrity.listDamaged(),
      Promise.all(DAMAGE_KINDS.map((k) => events.list(k, MAX_LISTED, v.window.since))),
    ]);
    const i = await integrity(events, v.window, v.previous, collapse(corrected));
    const now = d.clock.now();
    const age = (at: number | null) => (at === null ? 'never' : `${duration(now - at)} ago`);
    const list = recent.flat().sort((a, b) => b.at - a.at || b.id - a.id).slice(0, MAX_LISTED);
    const body = [
      '<div class="cards">',
      card('Last full scrub', age(metrics.lastFullScrub?.at ?? null), metrics.lastFullScrub ? `${when(metrics.lastFullScrub.at)}, ${metrics.lastFullScrub.clean ? 'clean' : 'found damage'}` : 'no scrub has completed'),
      card('Last verified backup', age(metrics.lastVerifiedBackup?.at ?? null), metrics.lastVerifiedBackup ? `${when(metrics.lastVerifiedBackup.at)} (${metrics.lastVerifiedBackup.kind})` : 'no backup was verified'),
      card('Bits repaired', int(i.corrected.value ?? 0), vsPrevious(i.corrected.value ?? 0, i.corrected.previous ?? 0)),
      card('Blobs damaged or missing', int(i.uncorrectable.value ?? 0), vsPrevious(i.uncorrectable.value ?? 0, i.uncorrectable.previous ?? 0)),
      card('Backup verifications failed', int(i.backupVerifyFailures.value ?? 0)),
      card('Damaged blobs now', int(metrics.damagedBlobs), `${metrics.damagedMessages} message(s) or queue entries use them`),
      '</div>',
      stackedBars('Bits repaired, by area', v.labels, stacks(v, corrected, 'area')),
      stackedBars('Damage found beyond repair', v.labels, [
        { name: 'uncorrectable', values: perBucket(v, damage[0]!) },
        { name: 'missing', values: perBucket(v, damage[1]!) },
      ]),
      '<h2>Damaged blobs</h2>',
      '<p class="muted">Marked damaged beyond repair or missing, not yet repaired or removed; IMAP and POP3 do not serve the messages that use them. <code>postern restore</code> or a repair clears them.</p>',
      table('damaged', ['Blob', 'Since', 'Reason'], damaged.map((x) => [x.blobId, when(x.at), x.reason]), 'No blob is marked damaged.'),
      '<h2>Damage found and repaired</h2>',
      table('integrity-events', ['When', 'Event', 'Blob or file', 'Detail'], list.map((x) => [when(x.at), x.kind.replace(/^integrity\./, ''), x.subject, describe(x)]), 'No damage was found or repaired in this window.'),
    ].join('');
    return c.html(frame(c, 'Integrity', '/console/security/integrity', v, body));
  });

  app.get('/console/security/spoofing', async (c) => {
    const v = await guarded(c, 'The spoofing page');
    if (v instanceof Response) return v;
    const [r, before, series] = await Promise.all([
      buildSpoofReport(events, v.window.since, v.window.until),
      buildSpoofReport(events, v.previous.since, v.previous.until),
      events.histogram('spoof.detected', v.window.since, v.window.until, v.bucketMs, ['origin']),
    ]);
    const body = [
      '<div class="cards">',
      card('Spoofed or forged', int(r.total), vsPrevious(r.total, before.total)),
      card('From outside', int(r.byOrigin.outside), vsPrevious(r.byOrigin.outside, before.byOrigin.outside)),
      card('From inside', int(r.byOrigin.inside), vsPrevious(r.byOrigin.inside, before.byOrigin.inside)),
      '</div>',
      stackedBars('Spoofed or forged mail, by origin', v.labels, stacks(v, series, 'origin')),
      '<h2>By kind (detector)</h2>',
      table('by-detector', ['Detector', 'Messages'], r.byDetector.map((x) => [x.detector, int(x.count)]), 'Nothing was detected in this window.'),
      '<h2>By detector, origin, result and action</h2>',
      table(
        'spoof-rows',
        ['Detector', 'Origin', 'Result', 'Action', 'Messages'],
        r.rows.map((x) => [x.labels.detector ?? '-', x.labels.origin ?? '-', x.labels.result ?? '-', x.labels.action ?? '-', int(x.count)]),
        'Nothing was detected in this window.',
      ),
      '<p class="muted">The same counts as <code>postern spoof report</code>. One message can count once per finding.</p>',
    ].join('');
    return c.html(frame(c, 'Spoofing', '/console/security/spoofing', v, body));
  });

  app.get('/console/security/confidential', async (c) => {
    const v = await guarded(c, 'The confidential-mail page');
    if (v instanceof Response) return v;
    const [r, before, series] = await Promise.all([
      buildDlpReport(events, v.window.since, v.window.until),
      buildDlpReport(events, v.previous.since, v.previous.until),
      events.histogram('dlp.flow', v.window.since, v.window.until, v.bucketMs, ['group']),
    ]);
    const t = r.totals;
    const body = [
      '<div class="cards">',
      card('Messages classified', int(t.messages), vsPrevious(t.messages, before.totals.messages)),
      card('Confidential', int(t.confidential), vsPrevious(t.confidential, before.totals.confidential)),
      card('Rule matches', int(t.matches), vsPrevious(t.matches, before.totals.matches)),
      card('Sent outside', int(t.flows), 'message × group × rule × domain'),
      card('Not scannable', int(t.unscannable), 'encrypted or not readable'),
      '</div>',
      stackedBars('Confidential data sent outside, by sender group', v.labels, stacks(v, series, 'group')),
      '<h2>By sender group and destination</h2>',
      table('dlp-flows', ['Group', 'Outside domain', 'Rule', 'Messages'], r.flows.map((f) => [f.group, f.domain, f.rule, int(f.count)]), 'No confidential data left the organisation in this window.'),
      '<h2>Matches by rule, direction and action</h2>',
      table('dlp-matches', ['Rule', 'Direction', 'Action', 'Messages'], r.matches.map((m) => [m.rule, m.direction, m.action, int(m.count)]), 'No rule matched in this window.'),
      '<h2>Messages by result</h2>',
      table('dlp-messages', ['Result', 'Direction', 'Messages'], r.messages.map((m) => [m.result, m.direction, int(m.count)]), 'No message was classified in this window.'),
      '<p class="muted">The same data as <code>postern dlp report</code>: counts by label, never the text that matched.</p>',
    ].join('');
    return c.html(frame(c, 'Confidential mail', '/console/security/confidential', v, body));
  });
}
