/**
 * Data shapes of the MIME structure codec. Every offset is a byte index into the
 * buffer that was parsed; ranges are half-open [start, end).
 */

/** Why a piece of input was not well formed. Parsing never throws: it records these. */
export type DefectCode =
  | 'header-no-colon'
  | 'header-bad-name'
  | 'header-orphan-continuation'
  | 'header-no-separator'
  | 'header-too-large'
  | 'header-too-many-fields'
  | 'header-duplicate'
  | 'content-type-invalid'
  | 'param-invalid'
  | 'param-duplicate'
  | 'multipart-no-boundary'
  | 'multipart-no-parts'
  | 'multipart-no-close'
  | 'message-encoded'
  | 'depth-limit'
  | 'part-limit';

export interface MimeDefect {
  readonly code: DefectCode;
  /** Byte offset where the problem was seen. */
  readonly offset: number;
  readonly detail?: string;
}

export interface HeaderField {
  /** Field name as written, trailing white space before the colon removed. */
  readonly name: string;
  /** Unfolded value: line breaks before white space removed, outer white space trimmed.
   *  Bytes are read as UTF-8 when valid, else as latin1 (one char per byte). */
  readonly value: string;
  /** Raw field bytes [start, end), including continuation lines and the final line break. */
  readonly start: number;
  readonly end: number;
  readonly raw: Uint8Array;
}

export interface HeaderSection {
  readonly fields: HeaderField[];
  /** Offset of the first header byte. */
  readonly start: number;
  /** Offset just after the last field (where the blank line starts, if any). */
  readonly end: number;
  /** Offset of the first body byte: after the blank line, or `end` when there is none. */
  readonly bodyStart: number;
  readonly hasSeparator: boolean;
  /** A limit stopped the scan; what follows was left as body. */
  readonly truncated: boolean;
  readonly defects: MimeDefect[];
}

export interface HeaderLimits {
  /** Largest header section scanned, in bytes (default 512 KiB). */
  readonly maxHeaderBytes?: number;
  /** Most fields kept in one header section (default 5000). */
  readonly maxHeaderFields?: number;
}

export interface MimeLimits extends HeaderLimits {
  /** Deepest nesting of multiparts and encapsulated messages (default 32). */
  readonly maxDepth?: number;
  /** Most parts in one message, encapsulated messages included (default 1000). */
  readonly maxParts?: number;
}

export interface MimeParam {
  /** Attribute, lower-cased, without RFC 2231 markers. */
  readonly name: string;
  /** Decoded value (RFC 2231 continuations and charset, RFC 2047 words). */
  readonly value: string;
  /** The form IMAP sends: continuations joined; for RFC 2231 extended values the
   *  name ends in `*` and the value keeps `charset'lang'` and %XX escapes. */
  readonly imapName: string;
  readonly imapValue: string;
}

export interface ContentType {
  /** Lower-cased. */
  readonly type: string;
  readonly subtype: string;
  readonly params: MimeParam[];
  /** No usable Content-Type field: the default for the context was used. */
  readonly defaulted: boolean;
}

export interface ContentDisposition {
  /** Lower-cased, e.g. `attachment`. */
  readonly type: string;
  readonly params: MimeParam[];
}

export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export interface MultipartInfo {
  readonly boundary: string;
  readonly preamble: ByteRange | null;
  readonly epilogue: ByteRange | null;
  /** A close delimiter was seen. */
  readonly closed: boolean;
}

export interface MimePart {
  /** Nesting depth: 0 for the message root. */
  readonly depth: number;
  readonly headerStart: number;
  readonly bodyStart: number;
  readonly bodyEnd: number;
  readonly header: HeaderSection;
  readonly contentType: ContentType;
  /** Lower-cased, `7bit` when absent. */
  readonly transferEncoding: string;
  readonly disposition: ContentDisposition | null;
  readonly contentId: string | null;
  readonly description: string | null;
  readonly language: string[] | null;
  readonly location: string | null;
  readonly md5: string | null;
  /** Line feeds in the body (the line break before a boundary belongs to the boundary). */
  readonly lines: number;
  readonly multipart: MultipartInfo | null;
  readonly children: MimePart[];
  /** For message/rfc822 and message/global: the encapsulated message's root part. */
  readonly message: MimePart | null;
  /** Problems with this part (header defects included). */
  readonly defects: MimeDefect[];
}

export interface MimeMessage {
  /** The parsed bytes (a view of the caller's buffer, not a copy). */
  readonly buf: Buffer;
  readonly root: MimePart;
  /** Parts created, encapsulated message roots included. */
  readonly partCount: number;
}
