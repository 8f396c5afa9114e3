import type { SessionTable } from './session.js';
import type { SmtpDeps, SmtpListenerKind } from './types.js';

/** What every handler of one listener shares. */
export interface ListenerContext {
  readonly kind: SmtpListenerKind;
  readonly deps: SmtpDeps;
  readonly sessions: SessionTable;
}

/** Submission listeners require authentication; mx never offers it. */
export function isSubmission(kind: SmtpListenerKind): boolean {
  return kind !== 'mx';
}
