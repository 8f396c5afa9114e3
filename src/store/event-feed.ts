/**
 * Every event recorded through a store, heard as it is recorded: the same
 * event becomes the events-table row, a Prometheus series and a log line
 * (metrics/). The feed wraps the backend's EventRepo once, in openStore, so
 * no caller can record an event that the metrics miss. Listeners run
 * synchronously and must not throw (a throw is swallowed: measuring never
 * breaks mail).
 */
import type { EventFeed, EventListener, RecordedEvent } from '../metrics/feed.js';
import type { EventKind, EventRepo, MetaStore, NewEvent, Store } from './types.js';

class FeedingEvents implements EventFeed {
  private readonly listeners = new Set<EventListener>();
  readonly muted = new Set<string>();

  mute(kinds: Iterable<string>): void {
    for (const k of kinds) this.muted.add(k);
  }

  listen(fn: EventListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(e: RecordedEvent): void {
    for (const fn of this.listeners) {
      try {
        fn(e);
      } catch {
        // A listener's fault must not stop the event or the other listeners.
      }
    }
  }

  wrap(repo: EventRepo): EventRepo {
    const emit = (e: RecordedEvent): void => this.emit(e);
    const muted = this.muted;
    return new Proxy(repo, {
      get(target, key) {
        const v = Reflect.get(target, key) as unknown;
        if (key === 'recordMany' && typeof v === 'function') {
          return (events: readonly NewEvent[]) => {
            const kept = events.filter((e) => !muted.has(e.kind));
            for (const e of kept) emit(e);
            return (v as EventRepo['recordMany']).call(target, kept);
          };
        }
        if (key !== 'record' || typeof v !== 'function') return typeof v === 'function' ? v.bind(target) : v;
        return (kind: EventKind, subject: string, data: Record<string, unknown>, now: number) => {
          if (muted.has(kind)) return Promise.resolve();
          // Heard whether or not the write succeeds: a full disk is exactly when the metric matters.
          emit({ kind, subject, data, at: now });
          return (v as EventRepo['record']).call(target, kind, subject, data, now);
        };
      },
    });
  }
}

export type FedStore = Store & { readonly feed: EventFeed };

/** The store with its event repository wrapped by a feed. */
export function withEventFeed(store: Store): FedStore {
  const feed = new FeedingEvents();
  const events = feed.wrap(store.meta.events);
  const meta = new Proxy(store.meta, {
    get(target, key) {
      if (key === 'events') return events;
      const v = Reflect.get(target, key) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as MetaStore;
  return { meta, blobs: store.blobs, close: () => store.close(), feed };
}
