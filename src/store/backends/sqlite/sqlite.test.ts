import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runStoreContract } from '../../contract.js';
import { openStore } from '../../index.js';

runStoreContract('sqlite + fs blobs', () => openStore({ backend: 'sqlite', dataDir: mkdtempSync(path.join(tmpdir(), 'postern-store-')) }));
