/**
 * Finds the aggregate reports in a message (or a report file) and parses
 * them. Bounded at every step: report parts per message, part size, zip
 * entries, decompressed size, records per report. Never throws.
 */
import { decodePartBody, listParts, paramValue, parseMessage, type MimePart } from '../../codec/mime/index.js';
import { gunzipBounded, unzipBounded } from './unpack.js';
import { isReportError, parseAggregateXml } from './xml.js';
import { withDefaults, type AggregateReport, type ReportLimits } from './types.js';

export interface Extracted {
  readonly reports: AggregateReport[];
  /** What could not be read, one line each (never message content beyond a file name). */
  readonly problems: string[];
}

type Kind = 'zip' | 'gzip' | 'xml';

const ZIP_TYPES = new Set(['application/zip', 'application/x-zip-compressed', 'application/x-zip']);
const GZIP_TYPES = new Set(['application/gzip', 'application/x-gzip', 'application/gzip-compressed', 'application/x-gunzip']);
const XML_TYPES = new Set(['text/xml', 'application/xml']);

/** What a part holds, by file name first (reporters often send application/octet-stream), then by type. */
function kindOf(part: MimePart): Kind | null {
  const name = (paramValue(part.disposition?.params ?? [], 'filename') ?? paramValue(part.contentType.params, 'name') ?? '').toLowerCase();
  if (name.endsWith('.zip')) return 'zip';
  if (name.endsWith('.gz') || name.endsWith('.gzip')) return 'gzip';
  if (name.endsWith('.xml')) return 'xml';
  const type = `${part.contentType.type}/${part.contentType.subtype}`;
  if (ZIP_TYPES.has(type)) return 'zip';
  if (GZIP_TYPES.has(type)) return 'gzip';
  if (XML_TYPES.has(type)) return 'xml';
  return null;
}

/** By content, for files given on the command line. */
function sniff(data: Uint8Array): Kind | null {
  if (data[0] === 0x50 && data[1] === 0x4b && data[2] === 0x03 && data[3] === 0x04) return 'zip';
  if (data[0] === 0x1f && data[1] === 0x8b) return 'gzip';
  let i = data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf ? 3 : 0;
  while (i < data.length && i < 4096 && (data[i] === 0x20 || data[i] === 0x09 || data[i] === 0x0a || data[i] === 0x0d)) i++;
  return data[i] === 0x3c ? 'xml' : null; // '<'
}

const ENCODING = /^<\?xml[^>]{0,200}?encoding\s{0,5}=\s{0,5}["']([A-Za-z0-9._-]{1,40})["']/;

/** Bytes to text: the declared encoding when the platform knows it, else UTF-8 (bad bytes become U+FFFD). */
export function decodeXmlBytes(data: Uint8Array): string {
  const head = new TextDecoder('latin1').decode(data.subarray(0, 256)).replace(/^\uFEFF|^\u00EF\u00BB\u00BF/, '').trimStart();
  const label = ENCODING.exec(head)?.[1];
  if (label) {
    try {
      return new TextDecoder(label).decode(data);
    } catch {
      // an unknown label: read as UTF-8
    }
  }
  return new TextDecoder('utf-8').decode(data);
}

/** Adds the reports one unpacked part holds to `out`. */
function readPart(declared: Kind, data: Uint8Array, label: string, lim: Required<ReportLimits>, out: Extracted): void {
  // Reporters mislabel: a ".xml.gz" that is a zip, a ".zip" that is gzip. The magic bytes decide.
  const magic = sniff(data.subarray(0, 4));
  const kind = magic === 'zip' || magic === 'gzip' ? magic : declared;
  const docs: { name: string; data: Uint8Array }[] = [];
  if (kind === 'zip') {
    const z = unzipBounded(data, { maxEntries: lim.maxZipEntries, maxEntryBytes: lim.maxXmlBytes, accept: (n) => n.toLowerCase().endsWith('.xml') });
    if (!z.ok) {
      out.problems.push(`${label}: ${z.error}`);
      return;
    }
    for (const s of z.skipped.slice(0, 5)) out.problems.push(`${label}: skipped ${JSON.stringify(s.slice(0, 100))} (not .xml)`);
    if (z.entries.length === 0) out.problems.push(`${label}: no .xml entry in the archive`);
    docs.push(...z.entries.map((e) => ({ name: `${label}/${e.name.slice(0, 100)}`, data: e.data })));
  } else if (kind === 'gzip') {
    const g = gunzipBounded(data, lim.maxXmlBytes);
    if (!g.ok) {
      out.problems.push(`${label}: ${g.error}`);
      return;
    }
    docs.push({ name: label, data: g.data });
  } else {
    if (data.length > lim.maxXmlBytes) {
      out.problems.push(`${label}: larger than ${lim.maxXmlBytes} bytes`);
      return;
    }
    docs.push({ name: label, data });
  }
  for (const d of docs) {
    const r = parseAggregateXml(decodeXmlBytes(d.data), { maxRecords: lim.maxRecords });
    if (isReportError(r)) out.problems.push(`${d.name}: ${r.error}`);
    else out.reports.push(r);
  }
}

function partLabel(part: MimePart, number: string): string {
  const name = paramValue(part.disposition?.params ?? [], 'filename') ?? paramValue(part.contentType.params, 'name');
  return name ? `part ${number} (${JSON.stringify(name.slice(0, 120))})` : `part ${number}`;
}

/** The aggregate reports attached to (or forming the body of) one e-mail message. */
export function extractReports(raw: Uint8Array, limits?: ReportLimits): Extracted {
  const lim = withDefaults(limits);
  const out: Extracted = { reports: [], problems: [] };
  try {
    const msg = parseMessage(raw);
    let taken = 0;
    for (const { number, part } of listParts(msg)) {
      const kind = kindOf(part);
      if (!kind) continue;
      const label = partLabel(part, number);
      if (++taken > lim.maxParts) {
        out.problems.push(`more than ${lim.maxParts} report parts: ${label} and later ones ignored`);
        break;
      }
      const data = decodePartBody(msg, part, lim.maxCompressedBytes + 1);
      if (data.length > lim.maxCompressedBytes) {
        out.problems.push(`${label}: larger than ${lim.maxCompressedBytes} bytes`);
        continue;
      }
      readPart(kind, data, label, lim, out);
    }
    if (taken === 0) out.problems.push('no report attachment (zip, gzip or xml) in the message');
  } catch (e) {
    // Defensive: the codec and parsers return problems, but a report must never take the caller down.
    out.problems.push(`internal error while reading the message: ${(e as Error).message.slice(0, 200)}`);
  }
  return out;
}

/**
 * A report file as administrators keep them: XML, .xml.gz, .zip, or a saved
 * message (.eml) holding one, recognised by content.
 */
export function extractReportsFromFile(raw: Uint8Array, name = 'file', limits?: ReportLimits): Extracted {
  if (raw.length === 0) return { reports: [], problems: [`${name}: empty file`] };
  const kind = sniff(raw);
  if (!kind) return extractReports(raw, limits);
  const lim = withDefaults(limits);
  const out: Extracted = { reports: [], problems: [] };
  if (kind !== 'xml' && raw.length > lim.maxCompressedBytes) {
    out.problems.push(`${name}: larger than ${lim.maxCompressedBytes} bytes`);
    return out;
  }
  try {
    readPart(kind, raw, name, lim, out);
  } catch (e) {
    out.problems.push(`internal error while reading ${name}: ${(e as Error).message.slice(0, 200)}`);
  }
  return out;
}
