import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runStoreContract } from '../../contract.js';
import { openStore } from '../../index.js';
import { SqliteMetaStore } from './index.js';

runStoreContract('sqlite + fs blobs', () => openStore({ backend: 'sqlite', dataDir: mkdtempSync(path.join(tmpdir(), 'postern-store-')) }), async (s, statement) => {
  if (!(s.meta instanceof SqliteMetaStore)) throw new Error('not a SQLite store');
  s.meta.db.exec(statement);
});
