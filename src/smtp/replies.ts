import { CATALOGUE, type ErrorCode } from '../core/errors.js';

/** An SMTP reply for smtp-server: `responseCode` is the code, the message starts with the enhanced status. */
export interface SmtpReplyError extends Error {
  responseCode: number;
}

/** A reply text that already carries its RFC 3463 enhanced status code. */
export const ENHANCED_PREFIX = /^[245]\.\d{1,3}\.\d{1,3} /;

// Replies the shared catalogue does not hold: they only make sense in SMTP.
const LOCAL = {
  TOO_MANY_CONNECTIONS: [421, '4.7.0', 'Too many connections, try again later'],
  TOO_MANY_FROM_CLIENT: [421, '4.7.0', 'Too many connections from your address, try again later'],
  AUTH_SESSION_LIMIT: [421, '4.7.0', 'Too many failed authentication attempts, closing connection'],
  AUTH_TEMPORARY: [454, '4.7.0', 'Temporary authentication failure'],
  AUTH_MECHANISM: [504, '5.5.4', 'Unrecognized authentication type'],
  BAD_SENDER: [501, '5.1.7', 'Bad sender address syntax'],
  BAD_RECIPIENT: [501, '5.1.3', 'Bad recipient address syntax'],
  NULL_SENDER: [553, '5.7.1', 'The null sender is not allowed here'],
  FROM_MISSING: [550, '5.6.0', 'Message must have exactly one From header'],
  NO_RECIPIENTS: [554, '5.5.1', 'No valid recipients'],
  LINE_TOO_LONG: [500, '5.5.2', 'Line too long'],
  // The client sent data before the mx greeting ([smtp] greet_pause_ms): not an SMTP client waiting its turn.
  EARLY_TALKER: [554, '5.5.1', 'Protocol error: data sent before the greeting'],
  SHUTTING_DOWN: [421, '4.3.2', 'Server shutting down, try again later'],
  // The process-wide budget for message bytes in memory is spent: the bytes were read and dropped.
  MEMORY_BUDGET: [452, '4.3.1', 'Insufficient system resources, try again later'],
  // Deadlines an idle timer cannot give (slow clients holding slots).
  LOGIN_TIMEOUT: [421, '4.4.2', 'Session not established in time, closing connection'],
  COMMAND_TIMEOUT: [421, '4.4.2', 'Command not completed in time, closing connection'],
  DATA_TIMEOUT: [421, '4.4.2', 'Message data too slow, closing connection'],
  AUTH_NOT_HERE: [503, '5.5.1', 'Authentication is not available on this port'],
  // RFC 5321 4.1.1.11: a MAIL parameter of an extension this session did not offer (REQUIRETLS needs TLS).
  REQUIRETLS_NOT_OFFERED: [555, '5.5.4', 'REQUIRETLS parameter not recognized: it is offered only over TLS'],
  // RFC 5321 4.1.1.11 and 4.1.2: a parameter no offered extension defines; a word after the path that is no esmtp-param.
  PARAM_NOT_OFFERED: [555, '5.5.4', 'MAIL or RCPT parameter not recognized or not offered'],
  // RFC 3463 4.2.2: the recipient's mailbox is over its quota; the sender retries this recipient later.
  MAILBOX_FULL: [452, '4.2.2', 'Mailbox full, try again later'],
  PARAM_SYNTAX: [501, '5.5.4', 'Syntax error in MAIL or RCPT parameters'],
  // RFC 6531 3.7.4.1: a UTF-8 address in a transaction without the SMTPUTF8 parameter.
  UTF8_SENDER_NOT_ALLOWED: [553, '5.6.7', 'Non-ASCII addresses not permitted for that sender'],
  UTF8_RECIPIENT_NOT_ALLOWED: [553, '5.6.7', 'Non-ASCII addresses not permitted for that recipient'],
  // Bytes above 0x7F that are not UTF-8 can name no address (RFC 6531 3.3 allows UTF-8 only).
  BAD_UTF8: [501, '5.5.2', 'Command is not valid UTF-8'],
} as const satisfies Record<string, readonly [number, string, string]>;

export type LocalReply = keyof typeof LOCAL;

/** [code, "x.y.z text"] for a catalogue error or an SMTP-only reply. */
export function replyOf(code: ErrorCode | LocalReply): [number, string] {
  if (code in LOCAL) {
    const [n, enhanced, text] = LOCAL[code as LocalReply];
    return [n, `${enhanced} ${text}`];
  }
  const entry = CATALOGUE[code as ErrorCode];
  if (!('smtp' in entry)) return [451, '4.3.0 Temporary local problem, please try again later'];
  return [entry.smtp[0], `${entry.smtp[1]} ${entry.text}`];
}

/** An error smtp-server turns into exactly this reply. Never carries internal detail. */
export function smtpError(code: ErrorCode | LocalReply): SmtpReplyError {
  const [n, text] = replyOf(code);
  const err = new Error(text) as SmtpReplyError;
  err.responseCode = n;
  return err;
}

/** A policy stage's reply: the code and text come from the verdict (already checked for the right class). */
export function policyReply(code: number, text: string): SmtpReplyError {
  const err = new Error(text) as SmtpReplyError;
  err.responseCode = code;
  return err;
}

/** The same reply in the shape onAuth answers with. */
export function authFailure(code: ErrorCode | LocalReply): { responseCode: number; message: string } {
  const [responseCode, message] = replyOf(code);
  return { responseCode, message };
}
