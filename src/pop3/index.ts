/** postern's POP3 server (RFC 1939, CAPA RFC 2449, STLS RFC 2595, AUTH PLAIN RFC 5034). */
export { createPop3Listener } from './listener.js';
export { DEFAULT_POP3_LIMITS } from './types.js';
export type { Pop3Deps, Pop3Limits, Pop3Listener, Pop3Mode } from './types.js';
