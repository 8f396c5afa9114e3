/** postern's IMAP server: IMAP4rev2 (RFC 9051) with IMAP4rev1 (RFC 3501) compatibility, credentials only inside TLS. */
export { createImapListener } from './listener.js';
export { DEFAULT_IMAP_LIMITS } from './types.js';
export type { ImapDeps, ImapLimits, ImapListener, ImapMode } from './types.js';
