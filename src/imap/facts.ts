/**
 * The sort and thread keys of the messages a SEARCH found, for SORT and
 * THREAD: size and INTERNALDATE from the store, header fields from the
 * header cache's header section (at most 64 KiB); a message without a usable
 * entry is read from its blob (verified), parsed with the MIME codec's
 * limits, and its entry is written back.
 */
import { parseHeaderSection } from '../codec/mime/index.js';
import { readDetail } from '../mailbox/header-cache.js';
import { messageFacts, metaFacts, type MessageFacts, type MessageMeta } from '../mailbox/message-facts.js';
import type { SearchCandidate } from '../mailbox/search.js';
import { CacheFiller, readCache } from './cache.js';
import { loadContent, readAhead, type ContentProblem } from './content.js';
import type { ImapSession } from './session.js';

const BATCH = 1000;

export interface Facts {
  /** In sequence order. */
  readonly facts: MessageFacts[];
  readonly problems: ContentProblem[];
}

interface ToRead {
  readonly meta: MessageMeta;
  readonly blobId: string;
}

/** Keys for the candidates; header fields are read only when `withHeader` (ARRIVAL and SIZE need none). */
export async function collectFacts(s: ImapSession, found: readonly SearchCandidate[], withHeader: boolean): Promise<Facts> {
  const sel = s.selected!;
  const facts: MessageFacts[] = [];
  const problems: ContentProblem[] = [];
  const filler = new CacheFiller(s);
  for (let i = 0; i < found.length; i += BATCH) {
    const batch = found.slice(i, i + BATCH);
    const stored = new Map((await s.deps.mailboxes.getMessages(sel.id, batch.map((c) => c.uid))).map((m) => [m.uid, m]));
    const withBlob: ToRead[] = [];
    for (const c of batch) {
      const m = stored.get(c.uid);
      if (!m) continue; // expunged by another session a moment ago
      const meta = { seq: c.seq, uid: c.uid, size: m.size, internalDate: m.internalDate };
      if (withHeader) withBlob.push({ meta, blobId: m.blobId });
      else facts.push(metaFacts(meta));
    }
    if (withBlob.length === 0) continue;
    const rows = await readCache(s, withBlob.map((w) => w.blobId), true);
    const toRead: ToRead[] = [];
    for (const w of withBlob) {
      const row = rows.get(w.blobId);
      const header = row ? readDetail(row)?.header : null;
      if (!header) {
        toRead.push(w);
        continue;
      }
      facts.push(messageFacts(w.meta, parseHeaderSection(header).fields));
    }
    for await (const [w, loaded] of readAhead(toRead, (w) => loadContent(s, w.meta.uid, w.blobId), (w) => w.meta.size)) {
      if (!loaded.ok) {
        problems.push({ uid: w.meta.uid, problem: loaded.problem });
        continue;
      }
      const mime = loaded.content.mime;
      await filler.add(w.blobId, mime, w.meta.uid);
      facts.push(messageFacts(w.meta, mime.root.header.fields));
    }
  }
  await filler.flush();
  facts.sort((a, b) => a.seq - b.seq);
  return { facts, problems };
}
