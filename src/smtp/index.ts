/** postern's inbound SMTP: the mx, submission and submissions listeners. */
export { createSmtpListener } from './listener.js';
export type { SmtpDeps, SmtpLimits, SmtpListener, SmtpListenerKind } from './types.js';
