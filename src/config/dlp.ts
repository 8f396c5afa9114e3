/**
 * [policy.dlp]: data-loss prevention. The rules file (relative to the config
 * file's folder) says what is confidential and what to do with it; this
 * section says when the stage runs (per direction, in-line before 250 or
 * after the queue), its time budget and the bounds of the text it reads.
 * On when `rules` is set, unless enabled = false.
 */
import { z } from 'zod';
import { bool, filePath, int, oneOf, table } from './values.js';

const phase = (d: 'inline' | 'after-queue') => oneOf(['inline', 'after-queue']).default(d);

export function dlpSection(baseDir: string) {
  return table({
    enabled: bool().optional(),
    // The rules file ("postern init" writes dlp-rules.toml beside postern.toml).
    rules: filePath(baseDir).optional(),
    // Inbound mail after the queue (the sender is not kept waiting); our own mail in-line, so a refusal reaches the user.
    phase: table({ inbound: phase('after-queue'), outbound: phase('inline'), internal: phase('inline') }).prefault({}),
    budget_ms: int(10, 600_000).default(15_000),
    fail_open: bool().default(false),
    // Characters of text looked at per message, all parts and documents together; what follows is not classified.
    max_text_chars: int(1000, 100_000_000).default(20_000_000),
    max_pdf_pages: int(1, 10_000).default(1000),
    // The "encrypt" action's content cipher: GCM (authEnveloped-data, RFC 8551) by default; CBC for clients
    // without RFC 5083 (e.g. GnuPG's gpgsm 2.2, older Outlook), at the price of no integrity of its own.
    encrypt_cipher: oneOf(['aes-256-gcm', 'aes-256-cbc']).default('aes-256-gcm'),
  })
    .transform(({ enabled, ...rest }) => ({ ...rest, enabled: enabled ?? rest.rules !== undefined }))
    .superRefine((v, ctx) => {
      if (v.enabled && v.rules === undefined) ctx.addIssue({ code: 'custom', path: ['rules'], message: 'DLP is enabled but no rules file is set: rules = "dlp-rules.toml"' });
    })
    .prefault({});
}

export type DlpConfig = z.infer<ReturnType<typeof dlpSection>>;
