/** What a session needs from its connection. */
export interface ManageSieveWire {
  /** TLS is active (after STARTTLS). */
  readonly secure: boolean;
  /** Queues bytes for the client, in order. */
  send(data: Buffer | readonly Buffer[]): void;
  /** The session logged in: the login deadline ends and the connection slot stops counting as pending. */
  loggedIn(): void;
}

/** What the connection does after a command: read the next one, close, or start TLS. */
export type { LineStep as ManageSieveStep } from '../net/line-protocol/connection.js';
