/** The unsolicited ESEARCH of a search kept up to date (RFC 5267 section 4.3): ADDTO and REMOVEFROM. */
import { quote } from './value.js';

/** Messages added at, or removed from, a position of the result; position 0 for an unsorted SEARCH's additions. */
export interface ContextChange {
  readonly position: number;
  /** Written as given: a sequence-set in this order ("3,1:2"). */
  readonly set: string;
}

/** '* ESEARCH (TAG "a") UID ADDTO (0 5:6)'; an empty Buffer when there is nothing to say. */
export function contextUpdateResponse(tag: string, uid: boolean, kind: 'ADDTO' | 'REMOVEFROM', changes: readonly ContextChange[]): Buffer {
  if (changes.length === 0) return Buffer.alloc(0);
  const pairs = changes.map((c) => `${c.position} ${c.set}`).join(' ');
  return Buffer.from(`* ESEARCH (TAG ${quote(tag.replace(/[\r\n\0]/g, ''))})${uid ? ' UID' : ''} ${kind} (${pairs})\r\n`, 'utf8');
}
