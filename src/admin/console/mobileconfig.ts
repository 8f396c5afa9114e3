/**
 * An Apple configuration profile (.mobileconfig) that sets up Mail on iOS,
 * iPadOS and macOS for one account: a com.apple.mail.managed payload with
 * IMAP over implicit TLS and submission over TLS (implicit TLS preferred,
 * else STARTTLS on 587), both with the full address as user name. No
 * password goes in: the device asks for it. The profile is not signed, so
 * the device shows it as unverified; it holds nothing secret. Host and ports
 * come from the same list of listening TLS services as Thunderbird's
 * autoconfig (public/endpoints.ts), so a profile never points at plain text.
 */
import { createHash } from 'node:crypto';
import type { ClientEndpoint } from '../public/endpoints.js';
import { xmlText } from '../public/xml.js';

export const MOBILECONFIG_TYPE = 'application/x-apple-aspen-config';

export interface ProfileInput {
  /** The account's full address: e-mail address and user name of both servers. */
  readonly address: string;
  readonly displayName: string;
  /** server.hostname */
  readonly hostname: string;
  readonly endpoints: readonly ClientEndpoint[];
}

/** A stable UUID per host, account and payload, so downloading again replaces the installed profile instead of adding one. */
function stableUuid(...parts: string[]): string {
  const h = createHash('sha256').update(`postern-mobileconfig\0${parts.join('\0')}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50; // version 5 layout (name-based)
  h[8] = (h[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const x = h.subarray(0, 16).toString('hex').toUpperCase();
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

type Value = string | number | boolean | readonly Value[] | { readonly [k: string]: Value };

function plistValue(v: Value, indent: string): string {
  if (typeof v === 'string') return `<string>${xmlText(v)}</string>`;
  if (typeof v === 'boolean') return v ? '<true/>' : '<false/>';
  if (typeof v === 'number') return `<integer>${Math.trunc(v)}</integer>`;
  const inner = `${indent}  `;
  if (Array.isArray(v)) return `<array>\n${(v as readonly Value[]).map((x) => `${inner}${plistValue(x, inner)}`).join('\n')}\n${indent}</array>`;
  const entries = Object.entries(v as Record<string, Value>).map(([k, x]) => `${inner}<key>${xmlText(k)}</key>\n${inner}${plistValue(x, inner)}`);
  return `<dict>\n${entries.join('\n')}\n${indent}</dict>`;
}

/** The profile as plist XML, or an error saying which TLS service is missing. */
export function appleMailProfile(p: ProfileInput): { profile: string } | { error: string } {
  const imap = p.endpoints.find((e) => e.protocol === 'imap' && e.socket === 'SSL');
  // Implicit TLS first (the endpoint list is in preference order); "UseSSL" on a STARTTLS port makes Mail upgrade.
  const smtp = p.endpoints.find((e) => e.protocol === 'smtp');
  if (!imap) return { error: 'IMAP over TLS (imaps) is not listening on this server, so there is nothing to set up' };
  if (!smtp) return { error: 'mail submission over TLS is not listening on this server, so there is nothing to set up' };
  const id = `postern.${p.hostname}.mail.${stableUuid(p.hostname, p.address, 'id').slice(0, 8).toLowerCase()}`;
  const mail: Value = {
    PayloadType: 'com.apple.mail.managed',
    PayloadVersion: 1,
    PayloadIdentifier: `${id}.account`,
    PayloadUUID: stableUuid(p.hostname, p.address, 'account'),
    PayloadDisplayName: `Mail: ${p.address}`,
    PayloadDescription: `Mail account ${p.address} on ${p.hostname}`,
    EmailAccountDescription: p.address,
    EmailAccountName: p.displayName || p.address,
    EmailAccountType: 'EmailTypeIMAP',
    EmailAddress: p.address,
    IncomingMailServerAuthentication: 'EmailAuthPassword',
    IncomingMailServerHostName: p.hostname,
    IncomingMailServerPortNumber: imap.port,
    IncomingMailServerUseSSL: true,
    IncomingMailServerUsername: p.address,
    OutgoingMailServerAuthentication: 'EmailAuthPassword',
    OutgoingMailServerHostName: p.hostname,
    OutgoingMailServerPortNumber: smtp.port,
    OutgoingMailServerUseSSL: true,
    OutgoingMailServerUsername: p.address,
    OutgoingPasswordSameAsIncomingPassword: true,
  };
  const profile: Value = {
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: id,
    PayloadUUID: stableUuid(p.hostname, p.address, 'profile'),
    PayloadDisplayName: `${p.address} mail`,
    PayloadDescription: `Sets up Mail for ${p.address} (IMAP and SMTP over TLS on ${p.hostname}); your password is asked for on the device.`,
    PayloadOrganization: p.hostname,
    PayloadRemovalDisallowed: false,
    PayloadContent: [mail],
  };
  return {
    profile: [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
      '<plist version="1.0">',
      plistValue(profile, ''),
      '</plist>',
      '',
    ].join('\n'),
  };
}
