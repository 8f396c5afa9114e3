export { OutboundDelivery, type OutboundDeps, type OutboundOptions } from './agent.js';
export { OutboundStats, eventTlsReporter, TLS_EVENT_KINDS } from './report.js';
export { directoryBounceRouter } from './bounce-route.js';
export type { BounceRouter } from './outcome.js';
export type { RelayOptions, Destination, TlsSessionReport, TlsReporter } from './connect.js';
export { buildDsn, type DsnInput, type FailedRecipient } from './dsn.js';
export { buildTlsReports, tlsReportsForDay, tlsReportFileName, type TlsReport, type TlsReportOptions } from './tlsrpt.js';
export { TlsReportSender, TlsReportTimer, previousDay, type DomainOutcome } from './tlsrpt-send.js';
export { parseTlsRptRecord, reportMail, type RuaTarget } from './tlsrpt-mail.js';
