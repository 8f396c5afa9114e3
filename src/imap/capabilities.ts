/** What the server advertises, by connection state (RFC 9051 section 6.1.1). */

/** Before TLS on the STARTTLS port: no credentials may be sent, so no mechanism is offered. */
const CLEAR = ['IMAP4rev2', 'IMAP4rev1', 'STARTTLS', 'LOGINDISABLED'];

const EXTENSIONS = [
  'LITERAL+',
  'ID',
  'ENABLE',
  'IDLE',
  'NAMESPACE',
  'UIDPLUS',
  'MULTIAPPEND',
  'MOVE',
  'UNSELECT',
  'CHILDREN',
  'SPECIAL-USE',
  'CREATE-SPECIAL-USE',
  'LIST-EXTENDED',
  'LIST-STATUS',
  'QUOTA',
  'QUOTA=RES-STORAGE',
  'CONDSTORE',
  'QRESYNC',
  'ESEARCH',
  'SEARCHRES',
  'BINARY',
  'CATENATE',
  'STATUS=SIZE',
  'UTF8=ACCEPT', // RFC 6855: after ENABLE, mailbox names and strings are UTF-8
  'SORT',
  'SORT=DISPLAY',
  'ESORT',
  'CONTEXT=SEARCH',
  'CONTEXT=SORT',
  'THREAD=ORDEREDSUBJECT',
  'THREAD=REFERENCES',
];

/** Only meaningful once there is an account to watch. */
const AUTHENTICATED_ONLY = ['NOTIFY'];

export interface CapabilityState {
  readonly secure: boolean;
  readonly authenticated: boolean;
  readonly appendLimit: number;
  /** SCRAM mechanisms this connection offers (-PLUS only inside TLS with binding data). */
  readonly scram?: readonly string[];
  /** URLAUTH keys are kept (RFC 4467, with URLFETCH's RFC 5524 forms). */
  readonly urlauth?: boolean;
}

export function capabilities(s: CapabilityState): string[] {
  if (!s.secure) return CLEAR;
  const caps = ['IMAP4rev2', 'IMAP4rev1'];
  if (!s.authenticated) caps.push(...(s.scram ?? []).map((m) => `AUTH=${m}`), 'AUTH=PLAIN', 'SASL-IR');
  caps.push(...EXTENSIONS);
  if (s.authenticated) caps.push(...AUTHENTICATED_ONLY);
  if (s.urlauth) caps.push('URLAUTH', 'URLAUTH=BINARY');
  caps.push(`APPENDLIMIT=${s.appendLimit}`);
  return caps;
}

/** ENABLE-able extensions, by the upper-cased name the parser gives, with their canonical spelling. */
export const ENABLEABLE = new Map<string, 'CONDSTORE' | 'QRESYNC' | 'IMAP4rev2' | 'UTF8=ACCEPT'>([
  ['CONDSTORE', 'CONDSTORE'],
  ['QRESYNC', 'QRESYNC'],
  ['IMAP4REV2', 'IMAP4rev2'],
  ['UTF8=ACCEPT', 'UTF8=ACCEPT'],
]);
