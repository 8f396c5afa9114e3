/** An event as it is recorded: heard by metrics, logs and alerts (see store/event-feed.ts). */
export interface RecordedEvent {
  readonly kind: string;
  readonly subject: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly at: number;
}

export type EventListener = (e: RecordedEvent) => void;

export interface EventFeed {
  /** Hears every event recorded from now on; returns the unsubscribe. */
  listen(fn: EventListener): () => void;
  /** Kinds neither written nor heard from now on (per-message events an installation chose not to keep). */
  mute(kinds: Iterable<string>): void;
}
