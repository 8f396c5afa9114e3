import type { ChannelBindings } from '../net/channel-binding.js';
/** What a session needs from its connection. */
export interface Pop3Wire {
  /** TLS is active (implicit TLS, or after STLS). */
  readonly secure: boolean;
  /** Queues bytes for the client, in order. */
  send(data: Buffer | readonly Buffer[]): void;
  /** The session logged in: the login deadline ends and the connection slot stops counting as pending. */
  loggedIn(): void;
  /** Channel-binding data for SCRAM-SHA-256-PLUS (empty before TLS). */
  channelBindings(): ChannelBindings;
}

/** What the connection does after a command: read the next one, close, or start TLS (STLS). */
export type { LineStep as Pop3Step } from '../net/line-protocol/connection.js';
