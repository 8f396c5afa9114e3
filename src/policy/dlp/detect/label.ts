/**
 * Sensitivity labels someone already put on a message: header fields whose
 * value contains one of the configured values (X-Classification, the
 * msip_labels header of Microsoft Information Protection:
 * "MSIP_Label_<guid>_Name=Confidential;") and tags in the Subject
 * ("[Confidential]"). Field names and values compare case-insensitively, as
 * substrings. A label is deliberate, so every hit is high; its value (the
 * field and the label) is not secret.
 */
import type { HeaderText, Hit } from '../types.js';
import { HIT_CAP } from './shared.js';

export interface LabelOptions {
  readonly headers: readonly { readonly name: string; readonly values: readonly string[] }[];
  readonly subjectTags: readonly string[];
}

export function labelScanner(opts: LabelOptions): (headers: readonly HeaderText[], subject: string) => Hit[] {
  const fields = new Map<string, string[]>();
  for (const h of opts.headers) {
    const key = h.name.toLowerCase();
    fields.set(key, [...(fields.get(key) ?? []), ...h.values.filter((v) => v.length > 0).map((v) => v.toLowerCase())]);
  }
  const tags = opts.subjectTags.filter((t) => t.length > 0).map((t) => t.toLowerCase());

  return (headers, subject) => {
    const hits: Hit[] = [];
    const add = (field: string, value: string, wanted: string): void => {
      const at = value.toLowerCase().indexOf(wanted);
      if (at < 0 || hits.length >= HIT_CAP) return;
      hits.push({ value: `${field}: ${value.slice(at, at + wanted.length)}`, index: at, length: wanted.length, confidence: 'high' });
    };
    for (const h of headers) {
      for (const wanted of fields.get(h.name.toLowerCase()) ?? []) add(h.name, h.value, wanted);
    }
    for (const tag of tags) add('Subject', subject, tag);
    return hits;
  };
}
