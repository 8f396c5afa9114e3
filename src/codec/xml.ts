/**
 * The one way postern reads XML from outside (DMARC aggregate reports, Outlook
 * autodiscover requests): fast-xml-parser with entities never expanded (no
 * external entity, no expansion bomb), no declarations or processing
 * instructions, values kept as text, and a nesting bound the caller chooses.
 * Callers also refuse any DOCTYPE or ENTITY declaration outright (FORBIDDEN_DECLARATION).
 */
import { XMLParser, type X2jOptions } from 'fast-xml-parser';

/** A DTD or entity declaration anywhere in a document: refused before parsing. */
export const FORBIDDEN_DECLARATION = /<!(?:DOCTYPE|ENTITY)/i;

export function safeXmlParser(options: { maxNestedTags: number } & Partial<Pick<X2jOptions, 'jPath' | 'isArray'>>): XMLParser {
  return new XMLParser({
    ignoreAttributes: true,
    removeNSPrefix: true,
    processEntities: false,
    parseTagValue: false,
    trimValues: true,
    ignoreDeclaration: true,
    ignorePiTags: true,
    ...options,
  });
}
