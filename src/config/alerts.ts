/**
 * [alerts]: integrity and availability events that need a human go out as
 * mail (through postern's own queue) and as a signed webhook, rate-limited
 * per kind so a storm sends a summary, not thousands of messages. Times are
 * in seconds.
 */
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';
import { normalizeAddress } from '../core/address.js';
import { bool, int, oneOf, table } from './values.js';

const addresses = () =>
  z.custom<string[]>((v) => Array.isArray(v) && v.every((a) => typeof a === 'string' && normalizeAddress(a) !== null), {
    abort: false,
    error: () => 'expected a list of mail addresses, e.g. ["ops@example.org"]',
  });

const address = () =>
  z.custom<string>((v) => typeof v === 'string' && (v === '' || normalizeAddress(v) !== null), {
    abort: false,
    error: () => 'expected "" (postmaster@<server.hostname>) or a mail address',
  });

function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h === '::1';
}

/** Why a webhook URL is refused, or null: https anywhere, plain http only to this machine. */
export function webhookUrlProblem(v: string): string | null {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return 'expected "" or an https:// URL';
  }
  if (u.username || u.password) return 'must not carry a user or password (the signature authenticates us)';
  if (u.protocol === 'https:') return null;
  if (u.protocol === 'http:') return isLoopbackHost(u.hostname) ? null : 'plain http:// is allowed only to loopback (127.0.0.1, ::1, localhost); use https://';
  return 'expected an https:// URL';
}

const webhookUrl = () =>
  z.custom<string>((v) => typeof v === 'string' && (v === '' || webhookUrlProblem(v) === null), {
    abort: false,
    error: (iss) => (typeof iss.input === 'string' ? (webhookUrlProblem(iss.input) ?? 'expected a string') : 'expected "" or an https:// URL'),
  });

/** A path, or "" for none; relative paths resolve against the config file's folder. */
const optionalPath = (baseDir: string) =>
  z
    .custom<string>((v) => typeof v === 'string' && !v.includes('\0'), { abort: false, error: () => 'expected "" or a path' })
    .transform((v) => (v === '' ? '' : resolve(baseDir, v)));

export const ALERT_SEVERITIES = ['warning', 'critical'] as const;

export function alertsSection(baseDir: string) {
  return table({
    enabled: bool().default(false),
    mail_to: addresses().default([]),
    // Envelope and From: sender; "" = postmaster@<server.hostname>. The envelope sender is always <> (never bounced).
    mail_from: address().default(''),
    webhook_url: webhookUrl().default(''),
    // File holding the HMAC key of the X-Postern-Signature header (one line, at least 16 bytes).
    webhook_secret_file: optionalPath(baseDir).default(''),
    // Alerts below this severity are not sent: "warning" (all) or "critical".
    min_severity: oneOf(ALERT_SEVERITIES).default('warning'),
    // Seconds between reads of new events.
    poll_interval: int(1, 300).default(5),
    // Days before the [tls] certificate expires that tls.cert_expiring is raised.
    cert_warn_days: int(1, 365).default(14),
    // Seconds a message may wait in the queue before queue.old is raised.
    queue_age_warn: int(60, 30 * 86_400).default(4 * 3600),
    rate: table({
      // Alerts per kind per window; the rest are counted and summed up in one mail at the end of the window.
      max_per_window: int(1, 1000).default(5),
      window: int(1, 86_400).default(600),
    }).prefault({}),
  })
    .superRefine(
      (a, ctx) => {
        const mail = Array.isArray(a.mail_to) && a.mail_to.length > 0;
        const hook = typeof a.webhook_url === 'string' && a.webhook_url !== '';
        if (a.enabled === true && !mail && !hook) {
          ctx.addIssue({ code: 'custom', path: ['enabled'], message: 'alerts need somewhere to go: set mail_to or webhook_url' });
        }
        if (hook && a.webhook_secret_file === '') {
          ctx.addIssue({ code: 'custom', path: ['webhook_secret_file'], message: 'is required when webhook_url is set (the key that signs each webhook)' });
        }
      },
      { when: () => true },
    )
    .prefault({});
}
