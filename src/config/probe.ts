/**
 * [probe]: the synthetic probe that sends a message through SMTP → queue →
 * mailbox → IMAP every `interval` seconds and records each failure and its
 * duration (src/probe/). The probe account must exist; its password is read
 * from `password_file`, never from this file.
 */
import { z } from 'zod';
import { bool, filePath, int, listenAddress, oneOf, table } from './values.js';

// An address as the directory stores it: local part and domain, lower-case domain.
const probeAddress = () =>
  z.custom<string>((v) => typeof v === 'string' && (v === '' || /^[^\s@<>"]{1,64}@[a-z0-9.-]{1,253}$/i.test(v)), {
    abort: false,
    error: () => 'expected the probe account\'s address, e.g. "probe@example.org"',
  });

export function probeSection(baseDir: string) {
  return table({
    enabled: bool().default(false),
    // Seconds between the starts of two rounds; rounds never overlap.
    interval: int(1, 86_400).default(60),
    // Seconds one whole round may take (send, appear in IMAP, delete); longer is a failure.
    timeout: int(1, 3600).default(30),
    address: probeAddress().default(''),
    password_file: filePath(baseDir).optional(),
    // "mx": unauthenticated delivery over STARTTLS; "submission": the probe account logs in.
    smtp: oneOf(['mx', 'submission']).default('mx'),
    host: listenAddress().default('127.0.0.1'),
    // The certificate the probe trusts; default [tls] cert (it connects to its own server).
    ca_file: filePath(baseDir).optional(),
  })
    .superRefine(
      (p, ctx) => {
        if (p.enabled !== true) return;
        if (p.address === '') ctx.addIssue({ code: 'custom', path: ['address'], message: 'is required when probe.enabled = true (an existing account, e.g. "probe@example.org")' });
        if (p.password_file === undefined) ctx.addIssue({ code: 'custom', path: ['password_file'], message: 'is required when probe.enabled = true (a file holding the probe account\'s password)' });
      },
      { when: () => true },
    )
    .prefault({});
}
