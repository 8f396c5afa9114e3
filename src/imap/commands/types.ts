import type { ImapCommand, ImapCommandName } from '../../codec/imap/index.js';

/** The command variant(s) with this name (an intersection, since several no-argument commands share one variant). */
export type Cmd<N extends ImapCommandName> = ImapCommand & { readonly name: N };
