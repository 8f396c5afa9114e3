export * from './types.js';
export { TlsPolicyMap } from './policy-map.js';
export { TlsPolicyResolver, raiseForRequireTls, type DomainPolicy, type MxHost, type HostPolicyResult } from './resolve.js';
export { judgePeer, pkixResultType, type PeerTls, type PeerVerdict } from './verify.js';
export { daneVerify, tlsaMatches, tlsaName, tlsaText, tlsaUsable } from './dane.js';
export { StsResolver, type StsLookup } from './mta-sts/resolver.js';
export { httpsStsFetcher, resolverLookup, type StsFetcher, type StsFetchResult, type HttpsStsFetcherOptions } from './mta-sts/fetch.js';
export { MemoryStsCache, FileStsCache, type StsCache, type StsCacheEntry } from './mta-sts/cache.js';
export { parseStsPolicy, parseStsTxt, mxMatches, mxAllowed, type StsPolicy, type StsMode } from './mta-sts/parse.js';
