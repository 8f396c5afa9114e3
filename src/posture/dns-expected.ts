/**
 * The records a local domain should publish, from the configuration, the
 * DKIM keys in [dkim] key_dir and the server certificate. `postern init`,
 * `postern dns` and the posture checks all build them here, so what init
 * prints, what `dns` prints and what `dns --check` expects are the same.
 */
import { readFile } from 'node:fs/promises';
import { listenPort, type Config } from '../config/index.js';
import { dkimRecordValueFromPrivateKey } from '../crypto/dkimkey.js';
import { dnsRecordsForDomain, type ClientPorts, type DkimPublicKey, type DnsRecord } from '../crypto/dnsrecords.js';
import { mtaStsSettings } from '../crypto/mta-sts-policy.js';
import { keyFileName, listSelectors } from '../policy/dkim/keys.js';
import path from 'node:path';

/** The public port of each TLS client service the configuration enables (port_offset applied). */
export function clientPorts(config: Config): ClientPorts {
  const port = (on: boolean, p: number) => (on ? listenPort(config, p) : null);
  return {
    imaps: port(config.imap.enabled, config.imap.tls_port),
    pop3s: port(config.pop3.enabled, config.pop3.tls_port),
    submissions: port(config.smtp.submissions.enabled, config.smtp.submissions.port),
    submission: port(config.smtp.submission.enabled, config.smtp.submission.port),
  };
}

export interface DomainKeys {
  /** Every DKIM key of the domain (the signing one and any other still published). */
  readonly dkim: readonly DkimPublicKey[];
  /** The server certificate (PEM); null when it cannot be read. */
  readonly certPem: string | null;
}

/** The records for one domain: pure, from what `readDomainKeys` found. */
export function domainRecords(config: Config, domain: string, keys: DomainKeys): DnsRecord[] {
  return dnsRecordsForDomain({
    domain,
    hostname: config.server.hostname,
    dkimKeys: keys.dkim,
    ...(keys.certPem ? { tlsCertPem: keys.certPem } : {}),
    ...(config.mta_sts.enabled ? { mtaSts: mtaStsSettings(config) } : {}),
    clientPorts: clientPorts(config),
    // The address the dmarc-reports stage reads reports from.
    dmarcReportLocalPart: config.policy.dmarc_reports.local_part,
  });
}

/** The domain's DKIM public keys (every selector with a key file) and the certificate; unreadable files are named in `problems`. */
export async function readDomainKeys(config: Config, domain: string): Promise<DomainKeys & { readonly problems: readonly string[] }> {
  const problems: string[] = [];
  const dkim: DkimPublicKey[] = [];
  for (const selector of await listSelectors(config.dkim.key_dir, domain)) {
    const file = path.join(config.dkim.key_dir, keyFileName(domain, selector));
    try {
      dkim.push({ selector, value: dkimRecordValueFromPrivateKey(await readFile(file, 'utf8')) });
    } catch (e) {
      problems.push(`DKIM key ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (dkim.length === 0 && problems.length === 0) problems.push(`no DKIM key for ${domain} in ${config.dkim.key_dir} (postern dkim rotate --domain ${domain} --activate)`);
  let certPem: string | null = null;
  try {
    certPem = await readFile(config.tls.cert, 'utf8');
  } catch (e) {
    problems.push(`certificate ${config.tls.cert}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { dkim, certPem, problems };
}
