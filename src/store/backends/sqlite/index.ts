import type { MetaStore } from '../../types.js';
import { openDb, type Db } from './db.js';
import { SqliteDirectory } from './directory.js';
import { SqliteEvents } from './events.js';
import { SqliteMailboxes } from './mailboxes.js';
import { SqliteQueue } from './queue.js';

export class SqliteMetaStore implements MetaStore {
  readonly directory: SqliteDirectory;
  readonly queue: SqliteQueue;
  readonly mailboxes: SqliteMailboxes;
  readonly events: SqliteEvents;

  constructor(readonly db: Db) {
    this.directory = new SqliteDirectory(db);
    this.queue = new SqliteQueue(db);
    this.mailboxes = new SqliteMailboxes(db);
    this.events = new SqliteEvents(db);
  }

  static open(file: string): SqliteMetaStore {
    return new SqliteMetaStore(openDb(file));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
