import { describe, expect, it } from 'vitest';
import { MaildropLocks } from './locks.js';

describe('MaildropLocks', () => {
  it('lets one session per account hold the lock until it releases it', () => {
    const locks = new MaildropLocks();
    const release = locks.tryAcquire(1);
    expect(release).not.toBeNull();
    expect(locks.tryAcquire(1)).toBeNull();
    const other = locks.tryAcquire(2);
    expect(other).not.toBeNull();
    release!();
    release!(); // twice is harmless and does not free someone else's lock
    const again = locks.tryAcquire(1);
    expect(again).not.toBeNull();
    release!();
    expect(locks.isHeld(1)).toBe(true);
  });

  it('keeps one table per store', () => {
    const a = {};
    const b = {};
    expect(MaildropLocks.forStore(a)).toBe(MaildropLocks.forStore(a));
    expect(MaildropLocks.forStore(a)).not.toBe(MaildropLocks.forStore(b));
    MaildropLocks.forStore(a).tryAcquire(1);
    expect(MaildropLocks.forStore(b).isHeld(1)).toBe(false);
  });
});
