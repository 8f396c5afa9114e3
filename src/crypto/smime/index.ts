/**
 * The S/MIME library (RFC 8551 over CMS, RFC 5652): pure functions over bytes
 * and caller-supplied keys. See README.md for the API and its security notes.
 */
export { CmsError, MAX_CMS_BYTES } from './asn1.js';
export { type Cert, type CertInput, type SignerInfoSummary, parseCertificate, parseCertificates, summarize } from './certs.js';
export { type ChainResult, checkChain } from './chain.js';
export { type KeyInput } from './keys.js';
export { type SignOptions, signData, signingHash } from './sign.js';
export { type SignatureStatus, type SignatureVerdict, type VerifyOptions, verifySignedData } from './verify.js';
export { type ContentCipher, type EncryptOptions, type Recipient, type RsaPadding, encryptData } from './envelope.js';
export { type DecryptOptions, type DecryptResult, decryptData } from './decrypt.js';
export { canonicalize, EntityError } from './entity.js';
export { type SmimeParts, type SmimeType, type SmimeVerdict, multipartSigned, parseSmime, pkcs7MimeEntity, signEntity, verifySmime } from './mime.js';
export {
  DEFAULT_OUTER_FIELDS,
  type MessageDecryptResult,
  type MessageEncryptOptions,
  alreadyEncrypted,
  decryptMessage,
  encryptMessage,
  outerHeader,
  sealedMessage,
  signMessage,
} from './message.js';
