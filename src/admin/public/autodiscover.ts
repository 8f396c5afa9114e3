/**
 * Outlook's autodiscover (the "POX" request and response schemas of 2006):
 * the request is read without any DTD or entity processing and must name
 * exactly one e-mail address; the answer lists IMAP, POP3 and SMTP with TLS.
 */
import { XMLValidator } from 'fast-xml-parser';
import { FORBIDDEN_DECLARATION, safeXmlParser } from '../../codec/xml.js';
import { normalizeAddress } from '../../core/address.js';
import type { ClientEndpoint } from './endpoints.js';
import { xmlText } from './xml.js';

export const REQUEST_NS = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006';
export const RESPONSE_NS = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';
const OUTER_NS = 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006';

// Entities are never expanded: no external entity, no expansion bomb.
const parser = safeXmlParser({ maxNestedTags: 8 });

const FORBIDDEN = FORBIDDEN_DECLARATION;
const MAX_ELEMENTS = 64;

const field = (v: unknown, k: string): unknown => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined);

/** The normalized address the request asks about, or the reason it is refused. */
export function parseAutodiscoverRequest(xml: string): { address: string } | { error: string } {
  if (xml.trim() === '') return { error: 'empty request body; expected the Outlook autodiscover request XML' };
  if (FORBIDDEN.test(xml)) return { error: 'DOCTYPE and ENTITY declarations are not accepted' };
  if ((xml.match(/<[A-Za-z_]/g) ?? []).length > MAX_ELEMENTS) return { error: `more than ${MAX_ELEMENTS} elements` };
  const valid = XMLValidator.validate(xml);
  if (valid !== true) return { error: `not well-formed XML: ${valid.err.msg} (line ${valid.err.line})` };
  let doc: unknown;
  try {
    doc = parser.parse(xml);
  } catch (e) {
    return { error: `not well-formed XML: ${(e as Error).message}` };
  }
  const request = field(field(doc, 'Autodiscover'), 'Request');
  if (request === undefined) return { error: 'expected <Autodiscover><Request>...' };
  const schema = field(request, 'AcceptableResponseSchema');
  if (schema !== undefined && schema !== RESPONSE_NS) return { error: `only the response schema ${RESPONSE_NS} is served` };
  const given = field(request, 'EMailAddress');
  if (typeof given !== 'string') return { error: 'expected exactly one <EMailAddress>' };
  const address = normalizeAddress(given);
  if (!address) return { error: 'EMailAddress is not a valid address' };
  return { address };
}

const PROTOCOL_TYPE = { imap: 'IMAP', pop3: 'POP3', smtp: 'SMTP' } as const;

function protocol(hostname: string, address: string, e: ClientEndpoint): string {
  return [
    '      <Protocol>',
    `        <Type>${PROTOCOL_TYPE[e.protocol]}</Type>`,
    `        <Server>${xmlText(hostname)}</Server>`,
    `        <Port>${e.port}</Port>`,
    '        <DomainRequired>off</DomainRequired>',
    `        <LoginName>${xmlText(address)}</LoginName>`,
    '        <SPA>off</SPA>',
    // Encryption, where present, takes precedence over SSL: "TLS" is STARTTLS.
    '        <SSL>on</SSL>',
    ...(e.socket === 'STARTTLS' ? ['        <Encryption>TLS</Encryption>'] : ['        <Encryption>SSL</Encryption>']),
    '        <AuthRequired>on</AuthRequired>',
    ...(e.protocol === 'smtp' ? ['        <UsePOPAuth>off</UsePOPAuth>', '        <SMTPLast>off</SMTPLast>'] : []),
    '      </Protocol>',
  ].join('\n');
}

export function autodiscoverResponse(address: string, hostname: string, endpoints: readonly ClientEndpoint[]): string {
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<Autodiscover xmlns="${OUTER_NS}">`,
    `  <Response xmlns="${RESPONSE_NS}">`,
    '    <Account>',
    '      <AccountType>email</AccountType>',
    '      <Action>settings</Action>',
    ...endpoints.map((e) => protocol(hostname, address, e)),
    '    </Account>',
    '  </Response>',
    '</Autodiscover>',
    '',
  ].join('\n');
}
