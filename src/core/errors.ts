/**
 * The error catalogue. Each error has a stable code; where it reaches an SMTP
 * client it carries the reply code and enhanced status; its severity says how
 * the caller must treat it:
 *  - recoverable: a verdict or a temporary failure for one client or message;
 *  - config: refuse to start and say which key is wrong and why;
 *  - invariant: a broken internal assumption; crash loudly, the supervisor restarts.
 */
export type Severity = 'recoverable' | 'config' | 'invariant';

export interface CatalogueEntry {
  readonly smtp?: readonly [number, string];
  readonly severity: Severity;
  readonly text: string;
}

export const CATALOGUE = {
  RELAY_DENIED: { smtp: [554, '5.7.1'], severity: 'recoverable', text: 'Relay access denied' },
  NO_SUCH_USER: { smtp: [550, '5.1.1'], severity: 'recoverable', text: 'No such user here' },
  SENDER_NOT_OWNED: { smtp: [553, '5.7.1'], severity: 'recoverable', text: 'Sender address not owned by the authenticated user' },
  FROM_NOT_OWNED: { smtp: [550, '5.7.1'], severity: 'recoverable', text: 'From header not owned by the authenticated user' },
  AUTH_REQUIRED: { smtp: [530, '5.7.0'], severity: 'recoverable', text: 'Authentication required' },
  AUTH_FAILED: { smtp: [535, '5.7.8'], severity: 'recoverable', text: 'Authentication credentials invalid' },
  AUTH_THROTTLED: { smtp: [454, '4.7.0'], severity: 'recoverable', text: 'Too many failed authentication attempts, try again later' },
  TLS_REQUIRED: { smtp: [530, '5.7.0'], severity: 'recoverable', text: 'Must issue a STARTTLS command first' },
  TOO_BIG: { smtp: [552, '5.3.4'], severity: 'recoverable', text: 'Message size exceeds fixed maximum message size' },
  TOO_MANY_RCPTS: { smtp: [452, '4.5.3'], severity: 'recoverable', text: 'Too many recipients' },
  BARE_NEWLINE: { smtp: [550, '5.5.2'], severity: 'recoverable', text: 'Message contains bare CR or LF; lines must end with CRLF' },
  NUL_IN_DATA: { smtp: [550, '5.6.0'], severity: 'recoverable', text: 'Message contains NUL bytes' },
  LINE_TOO_LONG: { smtp: [500, '5.5.2'], severity: 'recoverable', text: 'Line too long' },
  BAD_HEADERS: { smtp: [550, '5.6.0'], severity: 'recoverable', text: 'Message header section is malformed' },
  STORE_UNAVAILABLE: { smtp: [451, '4.3.0'], severity: 'recoverable', text: 'Temporary local problem, please try again later' },
  // RFC 3463 4.3.1: the disk or a filesystem quota is full; the client keeps the message and retries.
  STORAGE_FULL: { smtp: [452, '4.3.1'], severity: 'recoverable', text: 'Insufficient system storage' },
  OVERLOADED: { smtp: [421, '4.3.2'], severity: 'recoverable', text: 'Server busy, try again later' },
  DISABLED_ACCOUNT: { smtp: [550, '5.2.1'], severity: 'recoverable', text: 'Mailbox disabled' },
  CONFIG_INVALID: { severity: 'config', text: 'Configuration is invalid' },
  INTEGRITY: { severity: 'recoverable', text: 'Stored data failed its integrity check' },
  NOT_FOUND: { severity: 'recoverable', text: 'Not found' },
  LIMIT: { severity: 'recoverable', text: 'Limit reached' },
  EXISTS: { severity: 'recoverable', text: 'Already exists' },
  INVARIANT: { severity: 'invariant', text: 'Internal invariant broken' },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof CATALOGUE;

export class PosternError extends Error {
  readonly code: ErrorCode;
  readonly severity: Severity;
  readonly smtp?: readonly [number, string];
  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    const entry: CatalogueEntry = CATALOGUE[code];
    super(detail ? `${entry.text}: ${detail}` : entry.text, options);
    this.name = 'PosternError';
    this.code = code;
    this.severity = entry.severity;
    if (entry.smtp) this.smtp = entry.smtp;
  }
  /** The SMTP reply text for a client: "5.7.1 Relay access denied". */
  smtpText(): string {
    return this.smtp ? `${this.smtp[1]} ${this.message}` : this.message;
  }
}

export function isPosternError(e: unknown, code?: ErrorCode): e is PosternError {
  return e instanceof PosternError && (code === undefined || e.code === code);
}

// Disk or quota full, as the OS (ENOSPC, EDQUOT), SQLite (SQLITE_FULL) and PostgreSQL (53100 disk_full) report it.
const STORAGE_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL', '53100']);

/** The string `code`s of `e` and its `cause` chain, outermost first (PosternError codes included). */
export function errorCodes(e: unknown): string[] {
  const codes: string[] = [];
  let c: unknown = e;
  for (let depth = 0; depth < 16 && typeof c === 'object' && c !== null; depth++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    c = (c as { cause?: unknown }).cause;
  }
  return codes;
}

/** Whether an OS, SQLite or PostgreSQL error code says the disk or a quota is full. */
export function isStorageFullCode(code: string | undefined): boolean {
  return code !== undefined && STORAGE_FULL_CODES.has(code);
}

/** Whether `e`, or any error in its `cause` chain, says the storage is full. */
export function isStorageFull(e: unknown): boolean {
  return errorCodes(e).some((code) => code === 'STORAGE_FULL' || isStorageFullCode(code));
}
