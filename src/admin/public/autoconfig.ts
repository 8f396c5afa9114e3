/**
 * Thunderbird's autoconfiguration file (clientConfig version 1.1, the format
 * of Mozilla's ISPDB): one incomingServer per listening IMAP/POP3 TLS port,
 * one outgoingServer per submission port, the account's full address as the
 * user name and the password sent inside TLS.
 */
import type { ClientEndpoint } from './endpoints.js';
import { xmlText } from './xml.js';

const server = (tag: 'incomingServer' | 'outgoingServer', hostname: string, e: ClientEndpoint): string =>
  [
    `    <${tag} type="${e.protocol}">`,
    `      <hostname>${xmlText(hostname)}</hostname>`,
    `      <port>${e.port}</port>`,
    `      <socketType>${e.socket}</socketType>`,
    '      <username>%EMAILADDRESS%</username>',
    '      <authentication>password-cleartext</authentication>',
    `    </${tag}>`,
  ].join('\n');

export function thunderbirdConfig(domain: string, hostname: string, endpoints: readonly ClientEndpoint[]): string {
  const d = xmlText(domain);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<clientConfig version="1.1">',
    `  <emailProvider id="${d}">`,
    `    <domain>${d}</domain>`,
    `    <displayName>${d} mail</displayName>`,
    `    <displayShortName>${d}</displayShortName>`,
    ...endpoints.filter((e) => e.protocol !== 'smtp').map((e) => server('incomingServer', hostname, e)),
    ...endpoints.filter((e) => e.protocol === 'smtp').map((e) => server('outgoingServer', hostname, e)),
    '  </emailProvider>',
    '</clientConfig>',
    '',
  ].join('\n');
}
