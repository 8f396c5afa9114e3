/**
 * Outbound TLS as configured: the default level, destinations that require
 * TLS, whether MTA-STS and DANE are ever used, and the MTA-STS policy postern
 * publishes for its own domains. (REQUIRETLS is asked of the MX itself, in
 * credentials.ts.)
 */
import type { CheckResult } from './types.js';
import type { PostureContext } from './context.js';

const REQUIRED = new Set(['encrypt', 'verify', 'dane', 'dane-only', 'mta-sts']);

export function outboundChecks(ctx: PostureContext): Promise<CheckResult[]> {
  const d = ctx.config.delivery;
  const out: CheckResult[] = [];
  const levels = [d.tls_default, ...Object.values(d.tls_policy)];
  const r = (id: string, grade: CheckResult['grade'], reason: string, fix = ''): void => void out.push({ id: `outbound.${id}`, area: 'outbound', grade, reason, fix: grade === 'pass' ? '' : fix });

  if (d.tls_default === 'none') r('default', 'fail', '[delivery] tls_default = "none": mail to most domains goes out in clear even when they offer STARTTLS', 'Set [delivery] tls_default = "may" (STARTTLS when offered) or stricter.');
  else r('default', 'pass', `[delivery] tls_default = "${d.tls_default}"`);

  const none = Object.entries(d.tls_policy).filter(([, l]) => l === 'none').map(([k]) => k);
  if (none.length) r('cleartext-destinations', 'warn', `TLS is turned off for ${none.join(', ')}`, 'Remove "none" entries from [delivery.tls_policy] unless the destination cannot do TLS at all.');

  const required = Object.entries(d.tls_policy).filter(([, l]) => REQUIRED.has(l)).map(([k, l]) => `${k} (${l})`);
  if (REQUIRED.has(d.tls_default)) r('required-tls', 'pass', `every destination requires TLS (tls_default = "${d.tls_default}")${required.length ? `; listed: ${required.join(', ')}` : ''}`);
  else if (required.length) r('required-tls', 'pass', `TLS required for ${required.length} destination(s): ${required.slice(0, 10).join(', ')}${required.length > 10 ? ', ...' : ''}`);
  else r('required-tls', 'warn', 'no destination requires TLS: mail to partners goes in clear if STARTTLS is stripped on the way', 'List the partners you exchange confidential mail with in [delivery.tls_policy] as "verify", "dane" or "mta-sts".');

  if (levels.includes('mta-sts')) r('mta-sts', 'pass', `MTA-STS policies are honoured (${d.tls_default === 'mta-sts' ? 'tls_default' : 'for listed destinations'})`);
  else r('mta-sts', 'warn', 'MTA-STS policies of other domains are never fetched (no level is "mta-sts")', 'Set [delivery] tls_default = "mta-sts" (falls back to opportunistic TLS for domains without a policy), or list domains as "mta-sts".');

  const dane = levels.some((l) => l === 'dane' || l === 'dane-only');
  if (!dane) r('dane', 'warn', 'DANE (TLSA records) is never checked (no level is "dane" or "dane-only")', 'Use "dane" for destinations that publish TLSA records, with a validating resolver on loopback ([delivery] resolver).');
  else if (!/^(127\.|\[?::1\]?)/.test(d.resolver)) r('dane', 'warn', `DANE is used but [delivery] resolver is ${d.resolver === '' ? 'the system default' : d.resolver}: its DNSSEC answers are only as safe as the path to it`, 'Run a validating resolver (unbound) on loopback and set [delivery] resolver = "127.0.0.1".');
  else r('dane', 'pass', `DANE is checked, through the validating resolver ${d.resolver}`);

  if (d.relay && !REQUIRED.has(d.relay.level)) r('relay', 'warn', `the relay ${d.relay.host} is used at level "${d.relay.level}"`, 'Set [delivery.relay] level = "verify" (or "encrypt" for a relay with an internal CA you cannot list).');

  const sts = ctx.config.mta_sts;
  if (!sts.enabled || sts.mode === 'none') r('mta-sts-policy', 'warn', 'postern publishes no MTA-STS policy for its domains: senders cannot require TLS to it', 'Set [mta_sts] enabled = true, mode = "testing", then "enforce" once TLS reports are clean.');
  else if (sts.mode === 'testing') r('mta-sts-policy', 'warn', 'the published MTA-STS policy is in mode "testing": senders report failures but still deliver without TLS', 'Once "postern tlsrpt" shows no failures, set [mta_sts] mode = "enforce".');
  else r('mta-sts-policy', 'pass', 'the published MTA-STS policy is enforced');
  return Promise.resolve(out);
}
