export { DkimSigner, fromDomain, type SignInput, type SignResult } from './signer.js';
export { DkimKeyDir, activeSelector, listSelectors, loadKey, keyFileName, activeFileName, isSelector, type DkimKeyRef, type DkimKeySource } from './keys.js';
