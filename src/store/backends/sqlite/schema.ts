/**
 * Schema migrations for the SQLite metadata store, applied in order and
 * recorded in PRAGMA user_version. Never edit a released migration: add one.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE domains (
    name TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    address TEXT NOT NULL UNIQUE,
    domain TEXT NOT NULL REFERENCES domains(name),
    display_name TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    roles TEXT NOT NULL DEFAULT 'user',
    quota_bytes INTEGER,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE aliases (
    address TEXT NOT NULL,
    target TEXT NOT NULL,
    PRIMARY KEY (address, target)
  );
  CREATE TABLE groups (
    name TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT ''
  );
  CREATE TABLE group_members (
    group_name TEXT NOT NULL REFERENCES groups(name) ON DELETE CASCADE,
    address TEXT NOT NULL,
    PRIMARY KEY (group_name, address)
  );
  CREATE TABLE queue_messages (
    id TEXT PRIMARY KEY,
    blob_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    sender TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    source TEXT NOT NULL,
    client_address TEXT NOT NULL,
    auth_user TEXT,
    meta TEXT NOT NULL DEFAULT '{}'
  );
  CREATE TABLE queue_recipients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue_id TEXT NOT NULL REFERENCES queue_messages(id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    transport TEXT NOT NULL,
    account_id INTEGER,
    state TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_token TEXT,
    lease_until INTEGER,
    last_error TEXT,
    delivered_at INTEGER
  );
  CREATE INDEX queue_recipients_due ON queue_recipients(transport, state, next_attempt_at);
  CREATE INDEX queue_recipients_queue ON queue_recipients(queue_id);
  CREATE TABLE folders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    special_use TEXT,
    uid_validity INTEGER NOT NULL,
    uid_next INTEGER NOT NULL DEFAULT 1,
    highest_modseq INTEGER NOT NULL DEFAULT 1,
    subscribed INTEGER NOT NULL DEFAULT 1,
    UNIQUE (account_id, name)
  );
  CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    folder_id INTEGER NOT NULL REFERENCES folders(id),
    uid INTEGER NOT NULL,
    blob_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    internal_date INTEGER NOT NULL,
    flags TEXT NOT NULL DEFAULT '',
    modseq INTEGER NOT NULL,
    UNIQUE (folder_id, uid)
  );
  CREATE INDEX messages_blob ON messages(blob_id);
  CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}'
  );
  CREATE INDEX events_kind ON events(kind, at);
  `,
  `
  CREATE TABLE expunged (
    folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    uid INTEGER NOT NULL,
    modseq INTEGER NOT NULL,
    PRIMARY KEY (folder_id, uid)
  );
  CREATE INDEX messages_modseq ON messages(folder_id, modseq);
  `,
  // Blobs found uncorrectable or missing: every message that references one is damaged.
  `
  CREATE TABLE damaged_blobs (
    blob_id TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX queue_messages_blob ON queue_messages(blob_id);
  `,
  // Outbound delivery: when a recipient last left the queue, and the timing and route of its last attempt (JSON).
  `
  ALTER TABLE queue_recipients ADD COLUMN leased_at INTEGER;
  ALTER TABLE queue_recipients ADD COLUMN timing TEXT;
  `,
  // IMAP's header cache (MailboxRepo.getHeaderCache): per blob, the small search part in a
  // table of its own so SEARCH reads densely packed rows; the larger detail beside it.
  `
  CREATE TABLE header_cache (
    blob_id TEXT PRIMARY KEY,
    search TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE header_cache_detail (
    blob_id TEXT PRIMARY KEY,
    detail BLOB NOT NULL
  );
  `,
  // Each folder's keywords (rows.ts admitKeywords): NULL until first needed, then kept with every flag change;
  // keywords_exact while no keyword may have been removed since they were read from the messages.
  `
  ALTER TABLE folders ADD COLUMN keywords TEXT;
  ALTER TABLE folders ADD COLUMN keywords_exact INTEGER NOT NULL DEFAULT 0;
  `,
  // The policy pipeline: verdicts on each queue entry, the after-queue scan lease, the quarantine
  // (held entries with who held and who released them) and the verdicts kept with delivered mail.
  `
  ALTER TABLE queue_messages ADD COLUMN verdicts TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE queue_messages ADD COLUMN scan_token TEXT;
  ALTER TABLE queue_messages ADD COLUMN scan_until INTEGER;
  CREATE INDEX queue_recipients_state ON queue_recipients(state, queue_id);
  CREATE TABLE quarantine (
    queue_id TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    stage TEXT NOT NULL,
    reason TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'held',
    actor TEXT,
    acted_at INTEGER,
    sender TEXT NOT NULL,
    recipients TEXT NOT NULL,
    size INTEGER NOT NULL
  );
  CREATE INDEX quarantine_state ON quarantine(state, at);
  CREATE TABLE message_verdicts (
    blob_id TEXT PRIMARY KEY,
    queue_id TEXT NOT NULL,
    verdicts TEXT NOT NULL
  );
  `,
  // DMARC aggregate reports received (RFC 7489 rua): one row per report (a report mailed twice is
  // stored once), one per report row; period times in unix seconds, received_at in ms.
  `
  CREATE TABLE dmarc_reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_name TEXT NOT NULL,
    email TEXT NOT NULL,
    report_id TEXT NOT NULL,
    domain TEXT NOT NULL,
    begin_s INTEGER NOT NULL,
    end_s INTEGER NOT NULL,
    policy TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    UNIQUE (org_name, report_id, domain)
  );
  CREATE INDEX dmarc_reports_end ON dmarc_reports(end_s);
  CREATE TABLE dmarc_records (
    report INTEGER NOT NULL REFERENCES dmarc_reports(id) ON DELETE CASCADE,
    source_ip TEXT NOT NULL,
    count INTEGER NOT NULL,
    disposition TEXT NOT NULL,
    dkim TEXT NOT NULL,
    spf TEXT NOT NULL,
    header_from TEXT NOT NULL,
    envelope_from TEXT,
    auth TEXT NOT NULL
  );
  CREATE INDEX dmarc_records_report ON dmarc_records(report);
  `,
  // The audit log: hash-chained administrative actions (src/crypto/hashchain.ts) and the
  // checkpoints an auditor signed over it. Rows are only ever appended.
  `
  CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    data TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  CREATE INDEX audit_log_at ON audit_log(at);
  CREATE TABLE audit_checkpoints (
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    hash TEXT NOT NULL,
    signature TEXT NOT NULL,
    key_id TEXT NOT NULL
  );
  CREATE INDEX audit_checkpoints_seq ON audit_checkpoints(seq);
  `,
  // Delivery times: one row per delivered recipient, written with the delivery (see DeliveryTimeRepo).
  `
  CREATE TABLE delivery_times (
    queue_id TEXT NOT NULL,
    direction TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    delivered_at INTEGER NOT NULL,
    ms INTEGER NOT NULL
  );
  CREATE INDEX delivery_times_at ON delivery_times(direction, delivered_at);
  `,
  // Named cursors over the events table (alerts): moved only by compare-and-set, so one node handles each event.
  `
  CREATE TABLE event_cursors (
    name TEXT PRIMARY KEY,
    last_id INTEGER NOT NULL
  );
  `,
  // Users' public S/MIME certificates (encryption at rest, learned signers); the server never holds their keys.
  `
  CREATE TABLE certificates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    address TEXT NOT NULL,
    der BLOB NOT NULL,
    fingerprint TEXT NOT NULL,
    source TEXT NOT NULL,
    not_before INTEGER NOT NULL,
    not_after INTEGER NOT NULL,
    added_at INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0,
    UNIQUE (address, fingerprint)
  );
  CREATE INDEX certificates_fingerprint ON certificates(fingerprint);
  `,
  // Second factors of administrator accounts: security keys, TOTP secrets, one-time enrollment codes (SHA-256 only).
  `
  CREATE TABLE webauthn_credentials (
    id TEXT PRIMARY KEY,
    address TEXT NOT NULL,
    public_key BLOB NOT NULL,
    counter INTEGER NOT NULL,
    transports TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
  );
  CREATE INDEX webauthn_credentials_address ON webauthn_credentials(address);
  CREATE TABLE totp_secrets (
    address TEXT PRIMARY KEY,
    secret BLOB NOT NULL,
    last_step INTEGER,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE enrollment_codes (
    code_sha256 TEXT PRIMARY KEY,
    address TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX enrollment_codes_address ON enrollment_codes(address);
  `,
  // Sieve scripts per account (at most one active) and the vacation memory (one reply per sender and period).
  `
  CREATE TABLE sieve_scripts (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    script TEXT NOT NULL,
    size INTEGER NOT NULL,
    active INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, name)
  );
  CREATE UNIQUE INDEX sieve_scripts_active ON sieve_scripts(account_id) WHERE active = 1;
  CREATE TABLE vacation_replies (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (account_id, key)
  );
  CREATE INDEX vacation_replies_at ON vacation_replies(at);
  `,
  // SCRAM-SHA-256 keys beside the scrypt hash (RFC 5803 form); NULL until the password is next set.
  `
  ALTER TABLE accounts ADD COLUMN scram_keys TEXT;
  `,
  // IMAP subscriptions kept apart from folders: a subscribed name outlives its folder (RFC 9051 6.3.7).
  // folders.subscribed is no longer read; its state is carried over once here.
  `
  CREATE TABLE subscriptions (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    PRIMARY KEY (account_id, name)
  );
  INSERT INTO subscriptions (account_id, name) SELECT account_id, name FROM folders WHERE subscribed = 1;
  `,
  // What a selected session asks after every change (changesSince): expunges since its modseq, without scanning them all.
  `
  CREATE INDEX IF NOT EXISTS expunged_modseq ON expunged(folder_id, modseq);
  `,
  // URLAUTH mailbox access keys (RFC 4467 section 7): one random secret per folder, gone with it.
  `
  CREATE TABLE IF NOT EXISTS urlauth_keys (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    key BLOB NOT NULL,
    PRIMARY KEY (account_id, folder_id)
  );
  CREATE INDEX IF NOT EXISTS urlauth_keys_folder ON urlauth_keys(folder_id);
  `,
  // The header cache's search part again per message (searchHeaderCache): a folder's rows are read
  // by message id, nearly in order, instead of one lookup by blob id per message. Derived data, gone
  // with its message; a message without a row is answered from header_cache as before.
  `
  CREATE TABLE IF NOT EXISTS message_search (
    message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    search TEXT NOT NULL
  );
  `,
  // Small blobs in the database itself (backends/sqlite/blobs.ts): content-addressed checksummed
  // containers, as the blob files hold them. A rowid table with the id in its own index, since its rows
  // are larger than a page: the id's index stays small, and the container (last) spills to overflow pages.
  `
  CREATE TABLE IF NOT EXISTS blobs (
    id TEXT NOT NULL UNIQUE,
    written_at INTEGER NOT NULL,
    container BLOB NOT NULL
  );
  `,
];
