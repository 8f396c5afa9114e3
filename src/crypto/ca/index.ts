/**
 * postern's certificate authority as a pure library: certificates, CRLs and
 * PKCS #12 files as bytes, the CA key behind a Signer. See README.md.
 */
export { CaError, type Signer, type SignerAlgorithm, ecdsaRawToDer, softwareSigner } from './signer.js';
export { type Ca, type CaKeyAlgorithm, type CreateCaOptions, type CreatedCa, createCa } from './ca.js';
export { MAX_CSR_BYTES, type ParsedCsr, parseCsr } from './csr.js';
export { type IssueOptions, type Issued, type LeafKeyAlgorithm, type LeafOptions, MAX_LEAF_DAYS, checkEmail, issueFromCsr, issueWithKey, renew } from './issue.js';
export { type BuiltCrl, type CrlOptions, type RevocationReason, type Revoked, buildCrl } from './crl.js';
export { type Pkcs12Options, toPkcs12 } from './pkcs12.js';
export { toPem } from './x509.js';
export { type GenerateTokenKeyOptions, type GeneratedTokenKey, type OpenTokenOptions, type TokenSession, discardTokenKey, generateTokenKey, openToken, tokenSigner } from './pkcs11.js';
