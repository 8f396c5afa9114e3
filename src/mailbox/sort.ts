/**
 * SORT (RFC 5256 section 3, with DISPLAYFROM/DISPLAYTO of RFC 5957): orders
 * messages by what their header says. Keys are computed once per message
 * (messageFacts); this module only compares them. Messages whose keys are all
 * equal stay in sequence-number order, which the RFC requires (and REVERSE
 * does not reverse that tie-break).
 */
import type { SortCriterion } from '../codec/imap/index.js';
import { compareCodePoints } from './base-subject.js';

/** What SORT compares of one message; strings already case-mapped. */
export interface SortFacts {
  readonly seq: number;
  /** INTERNALDATE, ms. */
  readonly arrival: number;
  /** Sent date (Date field, else INTERNALDATE), ms. */
  readonly date: number;
  readonly size: number;
  /** Base subject. */
  readonly subject: string;
  /** addr-mailbox (local part) of the first address; '' when none. */
  readonly from: string;
  readonly to: string;
  readonly cc: string;
  /** Display name of the first address, else its address (RFC 5957). */
  readonly displayFrom: string;
  readonly displayTo: string;
}

type Compare = (a: SortFacts, b: SortFacts) => number;

const BY: Record<SortCriterion['key'], Compare> = {
  ARRIVAL: (a, b) => a.arrival - b.arrival,
  DATE: (a, b) => a.date - b.date,
  SIZE: (a, b) => a.size - b.size,
  SUBJECT: (a, b) => compareCodePoints(a.subject, b.subject),
  FROM: (a, b) => compareCodePoints(a.from, b.from),
  TO: (a, b) => compareCodePoints(a.to, b.to),
  CC: (a, b) => compareCodePoints(a.cc, b.cc),
  DISPLAYFROM: (a, b) => compareCodePoints(a.displayFrom, b.displayFrom),
  DISPLAYTO: (a, b) => compareCodePoints(a.displayTo, b.displayTo),
};

/** A new array of the messages in the order the criteria give; ties by sequence number. */
export function sortMessages<T extends SortFacts>(messages: readonly T[], criteria: readonly SortCriterion[]): T[] {
  const steps = criteria.map((c) => ({ cmp: BY[c.key], sign: c.reverse ? -1 : 1 }));
  return [...messages].sort((a, b) => {
    for (const { cmp, sign } of steps) {
      const d = cmp(a, b);
      if (d !== 0) return d < 0 ? -sign : sign;
    }
    return a.seq - b.seq;
  });
}

/** Which header fields the criteria need (none for ARRIVAL and SIZE alone). */
export function sortNeedsHeader(criteria: readonly SortCriterion[]): boolean {
  return criteria.some((c) => c.key !== 'ARRIVAL' && c.key !== 'SIZE');
}
