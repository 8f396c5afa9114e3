/**
 * One DMARC aggregate report document (RFC 7489 Appendix C, the older draft
 * schema and DMARCbis' variant) to an AggregateReport, or the reason it is
 * not one. Never throws.
 */
import { XMLValidator } from 'fast-xml-parser';
import { FORBIDDEN_DECLARATION, safeXmlParser } from '../../codec/xml.js';
import { reportSchema, describeIssues } from './schema.js';
import { DEFAULT_LIMITS, type AggregateReport, type ReportError } from './types.js';

// Repeatable elements, by path once namespace prefixes are removed.
const ARRAYS = new Set(['feedback.record', 'feedback.record.auth_results.dkim', 'feedback.record.auth_results.spf']);

const parser = safeXmlParser({
  maxNestedTags: 16,
  jPath: true,
  isArray: (_tag, jpath) => typeof jpath === 'string' && ARRAYS.has(jpath),
});

const FORBIDDEN = FORBIDDEN_DECLARATION;
// Tag names are short: bounded repetitions, no nested quantifiers.
const OPEN = /<(?:[A-Za-z_][\w.-]{0,40}:)?feedback[\s>]/;
const CLOSE = /<\/(?:[A-Za-z_][\w.-]{0,40}:)?feedback\s{0,20}>/g;

/** Counts `<record` openings without building anything, so a huge report is refused before parsing. */
function countRecords(xml: string, stopAt: number): number {
  let n = 0;
  for (let i = xml.indexOf('<record'); i >= 0 && n <= stopAt; i = xml.indexOf('<record', i + 7)) {
    const c = xml.charCodeAt(i + 7);
    if (c === 62 || c === 32 || c === 9 || c === 10 || c === 13) n++; // '>' or white space
  }
  return n;
}

/** Counts element openings ('<' then a name character) without building anything. */
function countElements(xml: string): number {
  let n = 0;
  for (let i = xml.indexOf('<'); i >= 0; i = xml.indexOf('<', i + 1)) {
    const c = xml.charCodeAt(i + 1);
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95) n++; // A-Z a-z _
  }
  return n;
}

/**
 * The parser builds about 150 bytes of objects per element: elements are
 * bounded per record (a rich record has about 40) and in all, so a document
 * of empty elements cannot turn 20 MiB into gigabytes.
 */
const ELEMENTS_PER_RECORD = 64;
const ELEMENTS_BASE = 1000;
export const MAX_ELEMENTS = 3_000_000;

/**
 * The <feedback> element alone: some reporters wrap it in an unclosed
 * <xs:schema> or put text before it. Empty when there is none.
 */
function feedbackElement(xml: string): string {
  const open = OPEN.exec(xml);
  if (!open) return '';
  let end = -1;
  for (const m of xml.matchAll(CLOSE)) end = m.index + m[0].length;
  return end > open.index ? xml.slice(open.index, end) : '';
}

export interface ParseOptions {
  /** Most <record> rows accepted (default 100,000). */
  readonly maxRecords?: number;
}

export function parseAggregateXml(xml: string, opts: ParseOptions = {}): AggregateReport | ReportError {
  const maxRecords = opts.maxRecords ?? DEFAULT_LIMITS.maxRecords;
  if (typeof xml !== 'string' || xml.trim() === '') return { error: 'empty document' };
  if (FORBIDDEN.test(xml)) return { error: 'document has a DOCTYPE or ENTITY declaration (refused: no DTDs in reports)' };
  const body = feedbackElement(xml);
  if (body === '') return { error: 'no <feedback> element' };
  const records = countRecords(body, maxRecords);
  if (records > maxRecords) return { error: `more than ${maxRecords} records` };
  const elements = countElements(body);
  if (elements > Math.min(MAX_ELEMENTS, ELEMENTS_BASE + ELEMENTS_PER_RECORD * records)) {
    return { error: `${elements} elements for ${records} records: more than a report has` };
  }
  const valid = XMLValidator.validate(body);
  if (valid !== true) return { error: `malformed XML: ${valid.err.msg} (line ${valid.err.line})` };
  let doc: unknown;
  try {
    doc = parser.parse(body);
  } catch (e) {
    return { error: `malformed XML: ${(e as Error).message.slice(0, 200)}` };
  }
  const r = reportSchema.safeParse((doc as { feedback?: unknown } | null)?.feedback);
  if (!r.success) return { error: `not a DMARC aggregate report: ${describeIssues(r.error.issues)}` };
  return r.data;
}

export function isReportError(r: AggregateReport | ReportError): r is ReportError {
  return 'error' in r;
}
