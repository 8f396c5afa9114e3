/** ManageSieve wire codec (RFC 5804): command reader, command parser, response encoder. */
export { ManageSieveReader, MAX_QUOTED } from './reader.js';
export type { ManageSieveReaderEvent, ManageSieveReaderOptions, ManageSieveToken, ManageSieveErrorCode } from './reader.js';
export { parseManageSieveCommand, parseSaslResponse, utf8Text } from './parse.js';
export type { ManageSieveCommand, ManageSieveParseResult } from './parse.js';
export * from './encode.js';
