// The benchmark mailboxes' messages: message i (from 1) has its own Subject,
// Message-ID, Date and body, of five sizes (about 0.6 to 2.6 KiB).
const DAY = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** Message i to `to`; `subject` replaces the usual Subject (e.g. a needle to search for). */
export function statusMessage(i, to, subject = `Weekly status ${i} (team ${i % 50})`) {
  const day = 1 + (i % 28);
  const lines = 20 + (i % 5) * 30;
  const body = [];
  for (let k = 1; k <= lines; k++) body.push(`Status line ${k} of report ${i}: ${(i * 7919 + k * 104729) % 1_000_003} items.`);
  return Buffer.from(
    [
      `From: Sender ${i % 997} <sender${i % 997}@remote.test>`,
      `To: ${to}`,
      `Subject: ${subject}`,
      `Date: ${DAY[(day + 6) % 7]}, ${day} Jan 2024 ${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00 +0000`,
      `Message-ID: <bench-${i}.${(i * 2654435761) % 4294967296}@remote.test>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=us-ascii',
      '',
      body.join('\r\n'),
      '',
    ].join('\r\n'),
  );
}
