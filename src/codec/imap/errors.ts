/**
 * Parse failures. The server answers `${tag} BAD ${message}` (or NO for
 * 'mailbox-name', whose syntax was fine but whose name cannot be used).
 */
import { VerdictError } from '../verdict-error.js';

export type ImapParseErrorCode = 'syntax' | 'mailbox-name' | 'too-complex';

export interface ImapParseError {
  /** The command tag, or "*" when the line has no usable tag. */
  readonly tag: string;
  readonly code: ImapParseErrorCode;
  readonly message: string;
}

/** Thrown inside the parser only; parseImapCommand turns it into an ImapParseError. No stack trace (see VerdictError). */
export class ParseFailure extends VerdictError {
  constructor(
    message: string,
    readonly code: ImapParseErrorCode = 'syntax',
  ) {
    super(message);
    this.name = 'ParseFailure';
  }
}

export function fail(message: string, code: ImapParseErrorCode = 'syntax'): never {
  throw new ParseFailure(message, code);
}
