export { mailauthResolver, DEFAULT_MAX_LOOKUPS, type MailauthResolver, type ResolverOptions } from './resolver.js';
export { verifySender, type VerifyOptions } from './verify.js';
export { stripForgedAuthResults, stripForged, VERDICT_FIELDS, authservIdOf, MAX_HEADER_BYTES, type StripResult } from './strip.js';
export { dmarcDecision, type DmarcAction, type DmarcDecision, type DmarcDecisionOptions, type DmarcOverride } from './decision.js';
export { arcSealForward, type ArcSealOptions } from './seal.js';
export { aligned, organizationalDomain, normalizeDomain } from './alignment.js';
export { parseDmarcRecord, discoverDmarc, type DmarcRecord, type DmarcLookup } from './dmarc-record.js';
export type * from './types.js';
