/**
 * The pieces of sending a TLS-RPT report (RFC 8460 3 and 5): reading a
 * domain's `_smtp._tls` record into its rua destinations, and the report
 * mail itself (multipart/report; report-type="tlsrpt", the gzip'd JSON as
 * application/tlsrpt+gzip). Pure: no DNS, no sockets, no store.
 */
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { normalizeAddress } from '../../core/address.js';
import type { TlsReport } from './tlsrpt.js';

export type RuaTarget = { readonly kind: 'mailto'; readonly address: string } | { readonly kind: 'https'; readonly url: string };

/** Bounds on what a domain's record can make us do: a few destinations, short URIs. */
const MAX_TARGETS = 5;
const MAX_URI = 512;
const MAX_RECORD = 2048;

/**
 * RFC 8460 3: of the TXT records, those starting "v=TLSRPTv1;" count, and
 * exactly one must; its rua= holds comma-separated mailto: and https: URIs.
 * Returns the usable destinations, or why there are none.
 */
export function parseTlsRptRecord(records: readonly string[]): { targets: RuaTarget[] } | { error: string } {
  const ours = records.filter((r) => /^v=TLSRPTv1;/i.test(r.trimStart()));
  if (ours.length === 0) return { error: 'no v=TLSRPTv1 record' };
  if (ours.length > 1) return { error: `${ours.length} v=TLSRPTv1 records (exactly one is allowed)` };
  const record = ours[0]!;
  if (record.length > MAX_RECORD) return { error: 'record too long' };
  const rua = record
    .split(';')
    .map((f) => f.trim())
    .find((f) => /^rua\s*=/i.test(f));
  if (!rua) return { error: 'no rua= in the record' };
  const targets: RuaTarget[] = [];
  for (const raw of rua.slice(rua.indexOf('=') + 1).split(',')) {
    const uri = raw.trim();
    if (uri === '' || uri.length > MAX_URI || targets.length >= MAX_TARGETS) continue;
    if (/^mailto:/i.test(uri)) {
      let addr: string;
      try {
        addr = decodeURIComponent(uri.slice(7).split('?')[0]!);
      } catch {
        continue;
      }
      // One @ only: a decoded %40 must not turn one address into another.
      const a = addr.indexOf('@') === addr.lastIndexOf('@') ? normalizeAddress(addr) : null;
      if (a && !targets.some((t) => t.kind === 'mailto' && t.address === a)) targets.push({ kind: 'mailto', address: a });
    } else if (/^https:/i.test(uri)) {
      try {
        const u = new URL(uri);
        if (u.protocol === 'https:' && u.username === '' && u.password === '') targets.push({ kind: 'https', url: u.href });
      } catch {
        // not a URL: skipped, like any URI we cannot use
      }
    }
  }
  return targets.length > 0 ? { targets } : { error: 'no usable mailto: or https: URI in rua=' };
}

/** The gzip'd report and its file name (RFC 8460 5.3: the JSON name plus ".gz"). */
export function gzipReport(r: TlsReport): { fileName: string; body: Buffer } {
  return { fileName: `${r.fileName}.gz`, body: gzipSync(Buffer.from(JSON.stringify(r.report))) };
}

export interface ReportMailOptions {
  readonly from: string;
  readonly to: string;
  readonly submitter: string;
  readonly now: number;
  /** Message-ID without brackets. */
  readonly messageId?: string;
}

/** Only what the mail carries in header fields: no CR, LF or other controls from a report. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what must go
const headerSafe = (s: string): string => s.replace(/[\x00-\x1f\x7f]/g, '').slice(0, 200);

/** RFC 8460 5.3: the report mail. CRLF line ends, base64 lines of 76 characters. */
export function reportMail(r: TlsReport, o: ReportMailOptions): Buffer {
  const { fileName, body } = gzipReport(r);
  const boundary = `tlsrpt-${randomUUID()}`;
  const domain = headerSafe(r.domain);
  const submitter = headerSafe(o.submitter);
  const id = headerSafe(r.report['report-id']);
  const b64 = body.toString('base64').replace(/.{1,76}/g, '$&\r\n');
  const lines = [
    `From: ${o.from}`,
    `To: ${o.to}`,
    `Date: ${new Date(o.now).toUTCString().replace('GMT', '+0000')}`,
    `Subject: Report Domain: ${domain} Submitter: ${submitter} Report-ID: <${id}>`,
    `Message-ID: <${o.messageId ?? `${randomUUID()}@${submitter}`}>`,
    `TLS-Report-Domain: ${domain}`,
    `TLS-Report-Submitter: ${submitter}`,
    'Auto-Submitted: auto-generated',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type="tlsrpt"; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    `This is an aggregate TLS report (RFC 8460) from ${submitter} for ${domain}.`,
    '',
    `--${boundary}`,
    'Content-Type: application/tlsrpt+gzip',
    'Content-Transfer-Encoding: base64',
    `Content-Disposition: attachment; filename="${headerSafe(fileName).replace(/["\\]/g, '')}"`,
    '',
  ];
  return Buffer.from(`${lines.join('\r\n')}\r\n${b64}\r\n--${boundary}--\r\n`);
}
