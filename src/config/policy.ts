/**
 * [policy]: the stages every message passes, their order of phases, their
 * time budgets and what happens when one cannot decide (fail closed unless
 * `fail_open = true`, which `postern audit` will flag). Budgets are in
 * milliseconds; they bound the work of one message in one stage.
 */
import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import { bool, int, oneOf, table } from './values.js';
import { malwareSection } from './malware.js';
import { attachmentsSection } from './malware-static.js';
import { dlpSection } from './dlp.js';
import { smimeSection } from './smime.js';

const name = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)*$/;

const domains = () =>
  z
    .custom<string[]>((v) => Array.isArray(v) && v.every((d) => typeof d === 'string' && name.test(d.toLowerCase())), {
      abort: false,
      error: () => 'expected a list of domains, e.g. ["partner.example"]',
    })
    .transform((v) => v.map((d) => d.toLowerCase()));

/** "192.0.2.0/24", "2001:db8::/32" or a single address. */
export function parseCidr(v: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const [addr, bits, extra] = v.split('/');
  if (extra !== undefined || !addr) return null;
  const fam = isIP(addr);
  if (fam === 0) return null;
  const max = fam === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return null;
  return { address: addr, prefix, family: fam === 4 ? 'ipv4' : 'ipv6' };
}

/** A BlockList of the networks, for matching client addresses. */
export function networkList(cidrs: readonly string[]): BlockList {
  const b = new BlockList();
  for (const c of cidrs) {
    const n = parseCidr(c);
    if (n) b.addSubnet(n.address, n.prefix, n.family);
  }
  return b;
}

const networks = () =>
  z.custom<string[]>((v) => Array.isArray(v) && v.every((d) => typeof d === 'string' && parseCidr(d) !== null), {
    abort: false,
    error: () => 'expected a list of networks, e.g. ["10.0.0.0/8", "2001:db8::/32"]',
  });

// The directory's roles (store/types ROLES; config sits below the store and cannot import it).
const ROLES = ['user', 'mailadmin', 'auditor', 'pkiofficer'] as const;

const roles = () =>
  z.custom<string[]>((v) => Array.isArray(v) && v.length > 0 && v.every((r) => typeof r === 'string' && (ROLES as readonly string[]).includes(r)), {
    abort: false,
    error: () => `expected a non-empty list of roles out of ${ROLES.join(', ')}`,
  });

const stage = (budgetMs: number) => ({
  enabled: bool().default(true),
  budget_ms: int(10, 600_000).default(budgetMs),
  fail_open: bool().default(false),
});

export const SPOOF_DETECTORS = ['own-domain', 'internal-forgery', 'display-name', 'lookalike', 'reply-to', 'bogus-transaction', 'malformed-from'] as const;
const spoofAction = oneOf(['off', 'tag', 'quarantine', 'reject']);

export function policySection(baseDir: string) {
  return table({
    // The authserv-id of our Authentication-Results fields (RFC 8601); "" = server.hostname.
    authserv_id: z
      .string()
      .refine((v) => v === '' || name.test(v.toLowerCase()), { error: 'expected "" or a host name' })
      .default(''),
    // Worker threads for content work (parsing, DKIM hashing, detectors); queued tasks beyond max_queued get 4xx.
    worker_threads: int(1, 64).default(2),
    max_queued: int(1, 100_000).default(256),
    // Seconds an after-queue scan may hold an entry before it is scanned again (a crash mid-scan).
    scan_lease: int(10, 86_400).default(60),
    // Roles that may release or delete quarantined mail.
    release_roles: roles().default(['auditor']),
    auth: table({
      ...stage(10_000),
      // A DNS failure during SPF/DKIM/DMARC: "tempfail" answers 451 so the sender retries; "accept" lets it in untagged.
      temperror: oneOf(['tempfail', 'accept']).default('tempfail'),
      // ARC sealers whose chain may override a DMARC failure (mailing lists and forwarders you trust).
      trusted_arc_sealers: domains().default([]),
      // Per sender domain: "policy" (follow the published record), "none", "quarantine" or "reject".
      dmarc_overrides: z.record(z.string().regex(name), oneOf(['policy', 'none', 'quarantine', 'reject'])).default({}),
    }).prefault({}),
    spoof: table({
      ...stage(5_000),
      // "inline": before 250 (may reject); "after-queue": after acknowledging (reject becomes quarantine).
      phase: oneOf(['inline', 'after-queue']).default('inline'),
      partner_domains: domains().default([]),
      // Client networks of the organisation: mail from them on the MX that claims a local sender unauthenticated is internal forgery.
      internal_networks: networks().default([]),
      // Per detector: "off", "tag" (header and banner), "quarantine" or "reject".
      actions: z.partialRecord(z.enum(SPOOF_DETECTORS), spoofAction).default({}),
    }).prefault({}),
    dmarc_reports: table({
      ...stage(30_000),
      // Mail to <local_part>@<each local domain> is read as DMARC aggregate reports (the address `postern init` publishes).
      local_part: z.string().regex(/^[a-z0-9._+-]{1,64}$/).default('dmarc-reports'),
    }).prefault({}),
    attachments: attachmentsSection(),
    malware: malwareSection(baseDir),
    dlp: dlpSection(baseDir),
    smime: smimeSection(baseDir),
  }).prefault({});
}
