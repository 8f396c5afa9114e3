/**
 * [encryption_at_rest]: mail delivered to the accounts it covers is stored
 * encrypted (S/MIME) to the owner's own certificates, so the server, its
 * administrators and its backups hold nothing that decrypts it. Coverage is
 * by account, group or domain. outer_fields stay in clear so IMAP can still
 * list, thread and search the mailbox: each one kept is metadata an
 * administrator can read (Subject most of all).
 */
import { z } from 'zod';
import { normalizeAddress, normalizeDomain } from '../core/address.js';
import { bool, describeValue, int, oneOf, table } from './values.js';

/** What IMAP ENVELOPE and header SEARCH need; the rest of the header moves inside. */
export const DEFAULT_AT_REST_OUTER_FIELDS = ['From', 'To', 'Cc', 'Date', 'Subject', 'Message-ID', 'In-Reply-To', 'References'] as const;

const FIELD_NAME = /^[!-9;-~]{1,76}$/;
// Stored in the encrypted form's own header: never copied from the message.
const RESERVED = new Set(['content-type', 'content-transfer-encoding', 'content-disposition', 'mime-version']);

const list = <T>(what: string, each: (s: string) => T | null) =>
  z
    .custom<unknown[]>((v) => Array.isArray(v) && v.length <= 10_000 && v.every((x) => typeof x === 'string' && each(x) !== null), {
      abort: false,
      error: (iss) => `expected a list of ${what}, got ${describeValue(iss.input)}`,
    })
    .transform((v) => [...new Set(v.map((x) => each(x as string) as T))]);

const fieldName = (s: string) => (FIELD_NAME.test(s) && !RESERVED.has(s.toLowerCase()) ? s : null);
const groupName = (s: string) => (s.trim() !== '' && s.length <= 200 ? s.trim() : null);

export function encryptionAtRestSection() {
  return table({
    enabled: bool().default(false),
    // Who is covered: an account listed, a member of a group listed, or any account of a domain listed.
    accounts: list('addresses', normalizeAddress).default([]),
    groups: list('group names', groupName).default([]),
    domains: list('domain names', normalizeDomain).default([]),
    // Header fields kept in clear (IMAP ENVELOPE, SEARCH, threading); the whole message is inside as well.
    outer_fields: list('header field names (not Content-*/MIME-Version)', fieldName).default([...DEFAULT_AT_REST_OUTER_FIELDS]),
    // "aes-256-gcm" (AuthEnvelopedData, RFC 5083) or "aes-256-cbc" (EnvelopedData) for clients without RFC 5083.
    cipher: oneOf(['aes-256-gcm', 'aes-256-cbc']).default('aes-256-gcm'),
    // A covered account without a valid certificate: store in clear ("deliver", counted) or keep it queued ("defer").
    missing_certificate: oneOf(['deliver', 'defer']).default('deliver'),
    budget_ms: int(100, 600_000).default(30_000),
  })
    .superRefine((c, ctx) => {
      if (c.enabled && c.accounts.length + c.groups.length + c.domains.length === 0) {
        ctx.addIssue({ code: 'custom', path: ['domains'], message: 'encryption at rest is enabled but covers nobody: list accounts, groups or domains' });
      }
    })
    .prefault({});
}

export type EncryptionAtRestConfig = z.infer<ReturnType<typeof encryptionAtRestSection>>;
