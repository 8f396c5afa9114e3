/**
 * Key escrow and M-of-N recovery as pure functions over bytes and
 * caller-supplied keys. See README.md.
 */
export { EscrowError, type EscrowOfficer, escrowKey, openShare, parseEscrowRecord, recoverKey } from './escrow.js';
export { type RequestKeyPair, exportRequestPublicKey, importRequestPublicKey, newRequestKey, openProtectedKey, protectKey, sealShare, unsealShare } from './seal.js';
export { ESCROW_VERSION, type EscrowRecord, MAX_OFFICERS, type ProtectedKey, type SealedShare, type ShareEntry, parseWith, protectedKeySchema, sealedShareSchema } from './schema.js';
