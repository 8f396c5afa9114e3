/** DMARC aggregate reports (RFC 7489 rua) received from other receivers: parse, unpack, ingest. */
export type { AggregateReport, ReportRecord, PolicyPublished, DkimAuth, SpfAuth, ReportError, ReportLimits, AuthResult, Disposition } from './types.js';
export { DEFAULT_LIMITS } from './types.js';
export { parseAggregateXml, isReportError, type ParseOptions } from './xml.js';
export { extractReports, extractReportsFromFile, decodeXmlBytes, type Extracted } from './extract.js';
export { ingestDmarcMail, storeReports, type IngestResult } from './ingest.js';
export { gunzipBounded, unzipBounded, inflateBounded, type InflateStats } from './unpack.js';
