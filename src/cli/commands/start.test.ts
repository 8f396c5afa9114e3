import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../store/index.js';
import { exampleAccount, welcomeText } from './start.js';

const listeners = [{ name: 'smtp submission', address: '127.0.0.1', port: 10587, tls: 'starttls' as const }];

describe('the start banner', () => {
  it('uses a placeholder at the installation\'s domain until an account exists, then the first enabled account', async () => {
    const store = await openStore({ backend: 'sqlite', dataDir: mkdtempSync(path.join(tmpdir(), 'postern-banner-')) });
    try {
      await store.meta.directory.addDomain('example.org', 1);
      const none = await exampleAccount(store);
      expect(none).toEqual({ address: 'you@example.org', exists: false });
      const text = welcomeText(listeners, 'tls/cert.pem', null, none);
      expect(text).toContain('No account yet: add one with  postern user add you@example.org --role mailadmin');
      expect(text).toContain('Send a first message (once you@example.org exists):');
      expect(text).not.toContain('demo@');

      await store.meta.directory.addAccount({ address: 'old@example.org', passwordHash: 'x' }, 1);
      await store.meta.directory.addAccount({ address: 'jo@example.org', passwordHash: 'x' }, 1);
      await store.meta.directory.setDisabled('old@example.org', true);
      const jo = await exampleAccount(store);
      expect(jo).toEqual({ address: 'jo@example.org', exists: true });
      expect(welcomeText(listeners, 'tls/cert.pem', null, jo)).not.toContain('No account yet');
    } finally {
      await store.close();
    }
  });

  it('shows the demo account and its password only when --dev just made it', () => {
    const text = welcomeText(listeners, 'tls/cert.pem', 'pw123', { address: 'demo@example.test', exists: true });
    expect(text).toContain('demo account:    demo@example.test');
    expect(text).toContain('demo password:   pw123');
    expect(welcomeText(listeners, 'tls/cert.pem', null, { address: 'demo@example.test', exists: true })).not.toContain('demo password');
  });
});
