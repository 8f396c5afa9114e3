/** POP3 wire codec: line reader, command parser, response encoder. */
export { Pop3LineReader } from './reader.js';
export type { Pop3ReaderOptions, Pop3ReaderEvent, Pop3ReaderMode } from './reader.js';
export { parsePop3Command } from './parse.js';
export type { Pop3Command, Pop3ParseResult } from './parse.js';
export * from './encode.js';
