/**
 * What ENVELOPE and BODYSTRUCTURE are made from. The MIME codec fills these;
 * the IMAP encoder writes them (RFC 9051 section 7.5.2, RFC 3501 section 7.4.2).
 * Header-derived strings are the raw header text (encoded-words are NOT
 * decoded: IMAP clients decode them), unfolded, without the field name.
 */

export interface AddressData {
  /** Display name (phrase), or null. */
  readonly name: string | null;
  /** Source route; always null in modern mail. */
  readonly adl: string | null;
  /** Local part; in group syntax, the group name (start) or null (end). */
  readonly mailbox: string | null;
  /** Domain; null marks group syntax. */
  readonly host: string | null;
}

/**
 * Address lists are flat: a group "team: a@x, b@y;" is
 * { mailbox: 'team', host: null }, the members, then { mailbox: null, host: null }.
 * An empty list or null is written as NIL.
 */
export interface EnvelopeData {
  readonly date: string | null;
  readonly subject: string | null;
  readonly from: readonly AddressData[] | null;
  /** When absent or empty, From is used (RFC 9051 7.5.2); the encoder does this. */
  readonly sender: readonly AddressData[] | null;
  /** When absent or empty, From is used; the encoder does this. */
  readonly replyTo: readonly AddressData[] | null;
  readonly to: readonly AddressData[] | null;
  readonly cc: readonly AddressData[] | null;
  readonly bcc: readonly AddressData[] | null;
  readonly inReplyTo: string | null;
  readonly messageId: string | null;
}

/** Content-Type or Content-Disposition parameters, in header order, values decoded (RFC 2231 joined). */
export type ParamList = ReadonlyArray<readonly [name: string, value: string]>;

export interface DispositionData {
  /** e.g. "inline", "attachment". */
  readonly type: string;
  readonly params: ParamList;
}

/** Extension data: written only in BODYSTRUCTURE, not BODY. */
export interface PartExtension {
  /** Content-MD5 (single parts only). */
  readonly md5?: string | null;
  readonly disposition?: DispositionData | null;
  /** Content-Language tags. */
  readonly language?: readonly string[] | null;
  /** Content-Location URI. */
  readonly location?: string | null;
}

/** The body fields every single part has. */
export interface PartFields {
  readonly params: ParamList;
  /** Content-ID. */
  readonly id: string | null;
  /** Content-Description. */
  readonly description: string | null;
  /** Content-Transfer-Encoding, e.g. "7BIT", "BASE64"; default "7BIT". */
  readonly encoding: string;
  /** Size of the encoded body in octets. */
  readonly size: number;
}

export type BodyStructureData =
  /** Any non-text, non-message single part, e.g. image/png. */
  | ({ readonly kind: 'basic'; readonly type: string; readonly subtype: string } & PartFields & PartExtension)
  /** text/*: lines is the number of lines of the encoded body. */
  | ({ readonly kind: 'text'; readonly subtype: string; readonly lines: number } & PartFields & PartExtension)
  /** message/rfc822 (and message/global): the enclosed message's envelope and structure. */
  | ({
      readonly kind: 'message';
      readonly subtype: string;
      readonly envelope: EnvelopeData;
      readonly body: BodyStructureData;
      readonly lines: number;
    } & PartFields &
      PartExtension)
  | {
      readonly kind: 'multipart';
      /** e.g. "mixed", "alternative". */
      readonly subtype: string;
      readonly parts: readonly BodyStructureData[];
      /** Content-Type parameters (boundary etc.), written only in BODYSTRUCTURE. */
      readonly params: ParamList;
      readonly disposition?: DispositionData | null;
      readonly language?: readonly string[] | null;
      readonly location?: string | null;
    };
