/**
 * The MTA-STS policy postern publishes (RFC 8461 3.2) and its id. The served
 * file and the id in the `_mta-sts` TXT record both come from here, so the
 * id changes exactly when the policy text does. Pure; no I/O.
 */
import { createHash } from 'node:crypto';

export interface MtaStsSettings {
  readonly mode: 'testing' | 'enforce' | 'none';
  /** MX host names or "*.example.org" patterns; never empty unless mode is "none". */
  readonly mx: readonly string[];
  /** Seconds. */
  readonly maxAge: number;
}

/** [mta_sts] of the configuration, with server.hostname standing in for an empty mx list. */
export function mtaStsSettings(config: { readonly server: { readonly hostname: string }; readonly mta_sts: { readonly mode: MtaStsSettings['mode']; readonly max_age: number; readonly mx: readonly string[] } }): MtaStsSettings {
  const mx = config.mta_sts.mx.length > 0 ? config.mta_sts.mx : [config.server.hostname];
  return { mode: config.mta_sts.mode, mx: [...new Set(mx.map((m) => m.toLowerCase()))], maxAge: config.mta_sts.max_age };
}

/** The policy file: "key: value" lines ending in CRLF, version first. */
export function mtaStsPolicyText(s: MtaStsSettings): string {
  const lines = ['version: STSv1', `mode: ${s.mode}`, ...s.mx.map((m) => `mx: ${m}`), `max_age: ${s.maxAge}`];
  return lines.map((l) => `${l}\r\n`).join('');
}

/** 1 to 32 letters and digits (RFC 8461 3.1): the first 20 hex digits of the text's SHA-256. */
export function mtaStsPolicyId(policyText: string): string {
  return createHash('sha256').update(policyText, 'utf8').digest('hex').slice(0, 20);
}
