/** postern's ManageSieve server (RFC 5804): users manage their Sieve scripts over TLS. */
export { createManageSieveListener } from './listener.js';
export { DEFAULT_MANAGESIEVE_LIMITS } from './types.js';
export type { ManageSieveDeps, ManageSieveLimits, ManageSieveListener } from './types.js';
