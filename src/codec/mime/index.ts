/** Public surface of the MIME structure codec. */
export type * from './types.js';
export { parseHeaderSection, getField, getFields, headerValue, type HeaderScanOptions } from './header.js';
export { parseMessage, collectDefects, DEFAULT_MAX_DEPTH, DEFAULT_MAX_PARTS } from './parse.js';
export { findPart, listParts, parsePartNumber, fetchSection, partBody, partMime, messageHeader, messageText, headerFields } from './sections.js';
export type { SectionSpec, SectionText } from './sections.js';
export { decodeEncodedWords, encodeEncodedWords, needsEncoding } from './encoded-word.js';
export { decodeCharset, decodeCp1252, isKnownCharset, normalizeCharset } from './charset.js';
export { decodeBase64, decodeQuotedPrintable, decodeTransfer } from './transfer.js';
export { decodePartBody, decodePartText } from './body.js';
export { parseStructuredValue, paramValue } from './params.js';
export { parseAddressList, parseAddressNodes, formatAddress } from './address.js';
export type { MailAddress, AddressNode, MailboxNode, GroupNode } from './address.js';
export { buildEnvelope, buildBodyStructure, imapAddresses, MISSING_MAILBOX, MISSING_DOMAIN } from './imap-structure.js';
export type { ImapAddress, ImapEnvelope, ImapBodyStructure, ImapSinglePart, ImapMultipart, ImapParam, ImapDisposition } from './imap-structure.js';
export { checkMessage, MAX_LINE_OCTETS } from './sanity.js';
export type { SanityCode, SanityProblem } from './sanity.js';
export { checkStorable, checkHeaderSection, firstNul } from './storable.js';
export type { StorableCheck, StorableRefusal, HeaderCheck, HeaderRefusal } from './storable.js';
