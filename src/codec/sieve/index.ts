/** Public surface of the Sieve codec (RFC 5228 and extensions): parse, check, run; the mail its actions send. */
export { parseSieve, SIEVE_LIMITS, type Arg, type Command, type Test, type ParseResult } from './parse.js';
export { runSieve, checkSieve, SIEVE_CAPABILITIES, RUN_LIMITS, type SieveAction, type SieveEnvelope, type SieveRun } from './interpret.js';
export { vacationRefusal, vacationMail, rejectMail, type VacationReply } from './replies.js';
