/**
 * The report as one self-contained HTML page: inline CSS and SVG, no script,
 * no external resource. Every piece of text from the store (domains, node
 * names, maintenance reasons, labels) is escaped.
 */
import { escapeHtml as e } from './escape.js';
import { ago, DASH, duration, int, trend, value, when, type Unit } from './format.js';
import { groupedHBars, stackedBars } from './svg.js';
import type { Count, Figure, Report } from './types.js';

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:60em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.6em 0}td,th{padding:.2em .7em;text-align:right;border-bottom:1px solid #eee}
td:first-child,th:first-child{text-align:left}.bad{color:#b00;font-weight:bold}.good{color:#070;font-weight:bold}
figure{margin:1em 0}figcaption{font-weight:bold;margin-bottom:.3em}svg text{font:11px sans-serif;fill:#444}
.legend{font-size:12px}.key i{display:inline-block;width:.8em;height:.8em;margin:0 .3em 0 .8em}small{color:#666}`;

const row = (name: string, f: Figure, unit: Unit): string =>
  `<tr><td>${e(name)}</td><td>${e(value(f.value, unit))}</td><td>${e(value(f.previous, unit))}</td><td>${e(trend(f, unit))}</td></tr>`;

const figures = (rows: string[]): string => `<table><tr><th>Figure</th><th>Window</th><th>Previous</th><th>Change</th></tr>${rows.join('')}</table>`;

function counts(title: string, rows: readonly Count[]): string {
  if (rows.length === 0) return '';
  const keys = Object.keys(rows[0]!.labels);
  const head = [...keys, 'count'].map((k) => `<th>${e(k)}</th>`).join('');
  const body = rows.map((r) => `<tr>${keys.map((k) => `<td>${e(r.labels[k] ?? '-')}</td>`).join('')}<td>${e(int(r.count))}</td></tr>`).join('');
  return `<h3>${e(title)}</h3><table><tr>${head}</tr>${body}</table>`;
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  return `<table><tr>${head.map((h) => `<th>${e(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${e(c)}</td>`).join('')}</tr>`).join('')}</table>`;
}

export function renderHtml(r: Report): string {
  const c = r.confidentiality;
  const i = r.integrity;
  const a = r.availability;
  const s = r.series;
  const day = s.bucketMs >= 86_400_000;
  const xLabels = s.starts.map((t) => new Date(t).toISOString().slice(day ? 5 : 11, day ? 10 : 16));
  const title = `postern report ${when(r.window.since)} – ${when(r.window.until)}`;
  const sla = `<p>SLA target ${e(String(a.sla.targetPct))}%: <span class="${a.sla.met ? 'good' : 'bad'}">${a.sla.met ? 'met' : 'missed'}</span>, ${e(duration(Math.abs(a.sla.remainingMs)))} ${a.sla.remainingMs >= 0 ? 'of the downtime budget left' : 'over the downtime budget'} (budget ${e(duration(a.sla.allowedMs))}).</p>`;
  const html = [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">',
    `<title>${e(title)}</title><style>${CSS}</style></head><body>`,
    `<h1>${e(title)}</h1>`,
    `<p><small>Made ${e(when(r.generatedAt))}. Compared with the previous window of equal length, ${e(when(r.previous.since))} – ${e(when(r.previous.until))}. ${DASH} means nothing to measure or compare.</small></p>`,
    '<h2>Confidentiality</h2>',
    figures([
      row('Inbound sessions (mx)', c.inbound.sessions, 'count'),
      row('Inbound messages', c.inbound.messages, 'count'),
      row('Inbound messages over TLS', c.inbound.tlsSharePct, 'pct'),
      row('Submission sessions', c.submission.sessions, 'count'),
      row('Submitted messages', c.submission.messages, 'count'),
      row('Submitted messages over TLS', c.submission.tlsSharePct, 'pct'),
      row('Outbound messages', c.outbound.messages, 'count'),
      row('Outbound messages over TLS', c.outbound.tlsSharePct, 'pct'),
      row('Outbound TLS policy failures', c.tlsFailures.total, 'count'),
      row('Plaintext logins refused', c.plaintextAuthRefused.total, 'count'),
      row('DLP matches', c.dlp.total, 'count'),
      row('S/MIME signed', c.smime.signed, 'count'),
      row('S/MIME signed share', c.smime.signedPct, 'pct'),
      row('S/MIME encrypted', c.smime.encrypted, 'count'),
      row('S/MIME encrypted share', c.smime.encryptedPct, 'pct'),
    ]),
    stackedBars(`Messages accepted over SMTP per ${day ? 'day' : 'hour'}, by TLS version`, xLabels, s.messagesByTls.map((t) => ({ name: t.tls, values: t.counts }))),
    '<h3>Inbound and submission by TLS version</h3>',
    table(
      ['TLS', 'inbound sessions', 'inbound messages', 'submission sessions', 'submitted messages'],
      [...new Set([...c.inbound.byTls, ...c.submission.byTls].map((t) => t.tls))].map((tls) => {
        const inb = c.inbound.byTls.find((t) => t.tls === tls);
        const sub = c.submission.byTls.find((t) => t.tls === tls);
        return [tls, int(inb?.sessions ?? 0), int(inb?.messages ?? 0), int(sub?.sessions ?? 0), int(sub?.messages ?? 0)];
      }),
    ),
    counts('Outbound messages by TLS and verification', c.outbound.byTls),
    c.tlsFailures.byDomain.length ? `<h3>TLS policy failures by destination</h3>${table(['domain', 'failures'], c.tlsFailures.byDomain.map((d) => [d.domain, int(d.count)]))}` : '',
    counts('TLS policy failures by policy type and result', c.tlsFailures.byPolicy),
    counts('Plaintext logins refused by protocol', c.plaintextAuthRefused.byProtocol),
    counts('DLP matches', c.dlp.byRule),
    '<h2>Integrity</h2>',
    figures([
      row('Bit errors corrected', i.corrected, 'count'),
      row('Damaged beyond repair or missing', i.uncorrectable, 'count'),
      row('Backup verify failures', i.backupVerifyFailures, 'count'),
      row('Spoofed or forged messages', i.spoofed.total, 'count'),
      row('Malware', i.malware.total, 'count'),
      row('DKIM signatures failed', i.dkimFailed, 'count'),
      row('DMARC failed', i.dmarcFailed, 'count'),
    ]),
    `<p>Last complete scrub: ${e(ago(i.lastScrub.at, i.lastScrub.ageMs))}.<br>Last verified backup: ${e(ago(i.lastVerifiedBackup.at, i.lastVerifiedBackup.ageMs))}.</p>`,
    stackedBars(`Bit errors corrected per ${day ? 'day' : 'hour'}`, xLabels, [{ name: 'corrected', values: s.corrections }]),
    counts('Corrections by area', i.correctedByArea),
    counts('Spoofed or forged by detector and origin', i.spoofed.byDetector),
    counts('Malware by engine and direction', i.malware.byEngine),
    '<h2>Availability</h2>',
    figures([
      row('Availability', a.availabilityPct, 'pct'),
      row('Outages', a.outages, 'count'),
      row('Unplanned outages', a.unplannedOutages, 'count'),
      row('Unplanned downtime', a.unplannedMs, 'ms'),
      row('Planned outages', a.plannedOutages, 'count'),
      row('Planned downtime', a.plannedMs, 'ms'),
    ]),
    sla,
    stackedBars(`Unplanned downtime per ${day ? 'day' : 'hour'} (minutes)`, xLabels, [{ name: 'unplanned downtime', values: s.unplannedMs.map((ms) => ms / 60_000) }], ' min'),
    a.outageList.length
      ? `<h3>Outages</h3>${table(
          ['from', 'to', 'in window', 'node', 'cause', 'planned'],
          a.outageList.map((o) => [when(o.from), when(o.to), duration(o.msInWindow), o.node, o.cause, o.planned ? 'yes' : 'no']),
        )}`
      : '<p>No outages in the window.</p>',
    a.maintenance.length
      ? `<h3>Maintenance windows</h3>${table(['from', 'to', 'source', 'reason'], a.maintenance.map((m) => [when(m.from), m.to === null ? 'open' : when(m.to), m.source, m.reason]))}`
      : '<p>No maintenance windows in the window.</p>',
    '<h3>Delivery times</h3>',
    table(
      ['direction', 'count', 'average', 'p50', 'p95', 'p99', 'p95 change'],
      a.delivery.map((d) => [d.direction, value(d.count.value, 'count'), value(d.avgMs.value, 'ms'), value(d.p50Ms.value, 'ms'), value(d.p95Ms.value, 'ms'), value(d.p99Ms.value, 'ms'), trend(d.p95Ms, 'ms')]),
    ),
    groupedHBars(
      'Delivery time percentiles',
      a.delivery
        .filter((d) => d.count.value)
        .map((d) => ({
          name: d.direction,
          values: (['p50Ms', 'p95Ms', 'p99Ms'] as const).map((k) => ({ name: k.slice(0, 3), value: d[k].value ?? 0, text: value(d[k].value, 'ms') })),
        })),
    ),
    `<p>Queue now: ${e(int(a.queueNow.messages))} messages, ${e(int(a.queueNow.recipients))} recipients, oldest ${e(a.queueNow.oldestAgeMs === null ? DASH : duration(a.queueNow.oldestAgeMs))}.</p>`,
    '</body></html>',
  ];
  return `${html.filter((x) => x !== '').join('\n')}\n`;
}
