/** The report on one screen: aligned columns, this window against the previous one. */
import { printable } from './escape.js';
import { ago, DASH, duration, int, trend, value, when, type Unit } from './format.js';
import type { Count, Figure, Report } from './types.js';

const W = [38, 14, 14];

/** Lines stay within this many columns: a long note is cut. */
const MAX_WIDTH = 120;

function line(name: string, f: Figure, unit: Unit, note = ''): string {
  const base = [`  ${name}`.padEnd(W[0]!), value(f.value, unit).padStart(W[1]!), value(f.previous, unit).padStart(W[2]!), `  ${trend(f, unit)}`].join('');
  const room = MAX_WIDTH - base.length - 2;
  const cut = note.length > room ? `${note.slice(0, Math.max(0, room - 1))}…` : note;
  return cut ? `${base}  ${cut}` : base;
}

const plain = (name: string, text: string): string => `${`  ${name}`.padEnd(W[0]!)}${text}`;

/** "a 3, b 1" for the largest few counts; a label set is joined with "/". */
function top(rows: readonly Count[], n = 3): string {
  if (rows.length === 0) return '';
  const s = rows.slice(0, n).map((r) => `${printable(Object.values(r.labels).join('/')).slice(0, 40)} ${int(r.count)}`);
  return rows.length > n ? `${s.join(', ')}, …` : s.join(', ');
}

export function renderText(r: Report): string {
  const c = r.confidentiality;
  const i = r.integrity;
  const a = r.availability;
  const days = (r.window.until - r.window.since) / 86_400_000;
  const out = [
    `postern report  ${when(r.window.since)} – ${when(r.window.until)} (${duration(r.window.until - r.window.since)}), against the ${days >= 1 ? `${days.toFixed(days % 1 ? 1 : 0)} d` : duration(r.window.until - r.window.since)} before`,
    `${''.padEnd(W[0]!)}${'window'.padStart(W[1]!)}${'previous'.padStart(W[2]!)}  change`,
    'CONFIDENTIALITY',
    line('inbound messages (mx)', c.inbound.messages, 'count', `${int(c.inbound.sessions.value ?? 0)} sessions`),
    line('  over TLS', c.inbound.tlsSharePct, 'pct', top(c.inbound.byTls.map((t) => ({ labels: { tls: t.tls }, count: t.messages })))),
    line('submitted messages', c.submission.messages, 'count', `${int(c.submission.sessions.value ?? 0)} sessions`),
    line('  over TLS', c.submission.tlsSharePct, 'pct'),
    line('outbound messages', c.outbound.messages, 'count'),
    line('  over TLS', c.outbound.tlsSharePct, 'pct'),
    line('outbound TLS policy failures', c.tlsFailures.total, 'count', top(c.tlsFailures.byDomain.map((d) => ({ labels: { d: d.domain }, count: d.count })))),
    line('plaintext logins refused', c.plaintextAuthRefused.total, 'count', top(c.plaintextAuthRefused.byProtocol)),
    line('DLP matches', c.dlp.total, 'count', top(c.dlp.byRule, 2)),
    line('S/MIME signed share', c.smime.signedPct, 'pct', `${int(c.smime.signed.value ?? 0)} signed, ${int(c.smime.encrypted.value ?? 0)} encrypted`),
    'INTEGRITY',
    line('bit errors corrected', i.corrected, 'count', top(i.correctedByArea)),
    line('damaged beyond repair or missing', i.uncorrectable, 'count'),
    plain('last complete scrub', ago(i.lastScrub.at, i.lastScrub.ageMs)),
    plain('last verified backup', ago(i.lastVerifiedBackup.at, i.lastVerifiedBackup.ageMs)),
    line('backup verify failures', i.backupVerifyFailures, 'count'),
    line('spoofed or forged messages', i.spoofed.total, 'count', top(i.spoofed.byDetector, 2)),
    line('malware', i.malware.total, 'count', top(i.malware.byEngine, 2)),
    line('DKIM signatures failed', i.dkimFailed, 'count'),
    line('DMARC failed', i.dmarcFailed, 'count'),
    'AVAILABILITY',
    line('availability', a.availabilityPct, 'pct', `SLA ${a.sla.targetPct}% ${a.sla.met ? 'met' : 'MISSED'}, ${duration(Math.abs(a.sla.remainingMs))} ${a.sla.remainingMs >= 0 ? 'of budget left' : 'over budget'}`),
    line('outages, unplanned', a.unplannedOutages, 'count'),
    line('  downtime', a.unplannedMs, 'ms'),
    line('outages, planned', a.plannedOutages, 'count'),
    line('  downtime', a.plannedMs, 'ms', `${a.maintenance.length} maintenance window(s)`),
    ...a.delivery.map((d) =>
      line(`delivery ${d.direction}, p95`, d.p95Ms, 'ms', d.count.value ? `n ${int(d.count.value)}, avg ${value(d.avgMs.value, 'ms')}, p50 ${value(d.p50Ms.value, 'ms')}, p99 ${value(d.p99Ms.value, 'ms')}` : ''),
    ),
    plain('queue now', `${int(a.queueNow.messages)} messages, ${int(a.queueNow.recipients)} recipients, oldest ${a.queueNow.oldestAgeMs === null ? DASH : duration(a.queueNow.oldestAgeMs)}`),
  ];
  return `${out.join('\n')}\n`;
}
