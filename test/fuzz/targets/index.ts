/** Every fuzz target, in the order runs go through them. */
import type { FuzzTarget } from '../harness/types.js';
import { blob } from './blob.js';
import { config } from './config.js';
import { imapEncode } from './imap-encode.js';
import { imapReader } from './imap-reader.js';
import { mime } from './mime.js';
import { mimeFields } from './mime-fields.js';
import { pop3 } from './pop3.js';
import { smtpCommand } from './smtp-command.js';
import { smtpData } from './smtp-data.js';
import { smime } from './smime.js';
import { sieve } from './sieve.js';

export const TARGETS: readonly FuzzTarget[] = [smtpCommand, smtpData, mime, mimeFields, imapReader, imapEncode, pop3, blob, config, smime, sieve];

export function targetNamed(name: string): FuzzTarget {
  const t = TARGETS.find((x) => x.name === name);
  if (!t) throw new Error(`no fuzz target "${name}"; targets: ${TARGETS.map((x) => x.name).join(', ')}`);
  return t;
}
