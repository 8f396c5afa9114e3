/**
 * The commented config that `postern init` writes. Every key is present with
 * its default so the file documents itself; a test checks that it parses back
 * to exactly the built-in defaults.
 */
export interface TemplateOptions {
  hostname: string;
  domain: string;
  dataDir: string;
  portOffset?: number;
  /** Address every listener binds; default all IPv4 addresses. */
  listenAddress?: string;
  /** The DLP rules file `postern init` writes beside the config; without it [policy.dlp] is left off (commented). */
  dlpRules?: string;
}

import { DEFAULT_BLOCK_EXTENSIONS, DEFAULT_BLOCK_TYPES } from './malware-static.js';

/** TOML basic string; JSON escapes are a subset of TOML's. */
const q = (s: string): string => JSON.stringify(s);

/** Comments must stay on one line or the rest would become TOML. */
const c = (s: string): string => s.replace(/[\r\n]+/g, ' ');

export function renderConfigTemplate(opts: TemplateOptions): string {
  const offset = opts.portOffset ?? 0;
  const listen = opts.listenAddress ?? '0.0.0.0';
  return `# postern configuration. Relative paths are relative to this file's folder.

[server]
# Host name used in SMTP greetings, Received headers and the TLS certificate.
hostname = ${q(opts.hostname)}
# Store, queue and message blobs. Keep it on a disk that is backed up.
data_dir = ${q(opts.dataDir)}
# Added to every listener port below (e.g. 10000 to run as an ordinary user).
port_offset = ${offset}
# Seconds between heartbeats: after a crash, the downtime is counted from the last one.
heartbeat_interval = 30

[store]
# "sqlite" (embedded, under data_dir) or "postgres" (set url).
backend = "sqlite"
# postgres://user:password@host/db; ignored for sqlite.
url = ""
# MiB of recently written and read messages kept in memory, so the scan and
# delivery after SMTP and repeated IMAP/POP3 reads skip the disk (0: none).
read_cache_mb = 64
# KiB (sqlite only): a message up to this size is kept inside the database,
# in the same checksummed container a file holds; larger ones are files
# under data_dir/blobs (0: every message a file). Mail for an account that
# [encryption_at_rest] covers is always a file, so its clear copy can be
# removed whole once the encrypted one is stored.
inline_blob_kb = 32

[tls]
# PEM certificate chain and PEM private key (mode 0600).
cert = "tls/cert.pem"
key = "tls/key.pem"
# "TLSv1.2" or "TLSv1.3".
min_version = "TLSv1.2"

[dkim]
# Signing key per domain: <key_dir>/<domain>.<selector>.key.pem,
# e.g. ${c(`dkim/${opts.domain}.postern.key.pem`)}; publish the matching TXT record.
selector = "postern"
key_dir = "dkim"

[smtp]
max_message_size = 26214400   # bytes (25 MiB)
max_recipients = 100
max_connections = 500
max_connections_per_client = 20
# Bare CR or LF in DATA: "reject" (defends against SMTP smuggling) or "normalize".
bare_newline = "reject"
socket_timeout = 300          # seconds
# Slow and idle clients (slowloris): limits on connections that have not
# logged in yet, a reserve of slots, and deadlines an idle timer cannot give.
max_pending_per_client = 20   # not yet logged in (mx: no MAIL FROM yet), per client address
reserved_percent = 10         # of max_connections, kept for addresses with < 2 connections or a past login
login_timeout = 300           # seconds from connect to login (mx: to MAIL FROM)
command_timeout = 60          # seconds a command line may take from its first byte; also unread output
min_transfer_rate = 1024      # bytes/s a message must average after command_timeout
# mx only: wait this long before the greeting and refuse (554 5.5.1) a client
# that talks first, as spam software often does. 0 greets at once.
greet_pause_ms = 0

[smtp.mx]                     # inbound mail from other servers
enabled = true
address = ${q(listen)}
port = 25

[smtp.submission]             # mail clients, STARTTLS
enabled = true
address = ${q(listen)}
port = 587

[smtp.submissions]            # mail clients, implicit TLS
enabled = true
address = ${q(listen)}
port = 465

[imap]
enabled = true
address = ${q(listen)}
port = 143                    # STARTTLS
tls_port = 993                # implicit TLS
max_connections = 10000       # per listener
max_connections_per_client = 100
idle_timeout = 1800           # seconds; RFC 9051 asks for at least 30 minutes
# Slow and idle clients (slowloris): limits on connections that have not
# logged in yet, a reserve of slots, and deadlines an idle timer cannot give.
max_pending_per_client = 10   # not yet logged in, per client address
reserved_percent = 10         # of max_connections, kept for addresses with < 2 connections or a past login
login_timeout = 60            # seconds from connect to login
command_timeout = 60          # seconds a command line may take from its first byte; also unread output
min_transfer_rate = 1024      # bytes/s a literal (APPEND) must average after command_timeout

[pop3]
enabled = true
address = ${q(listen)}
port = 110                    # STLS
tls_port = 995                # implicit TLS
max_connections = 500         # per listener
max_connections_per_client = 20
idle_timeout = 600            # seconds; RFC 1939 asks for at least 10 minutes
# Slow and idle clients (slowloris): limits on connections that have not
# logged in yet, a reserve of slots, and deadlines an idle timer cannot give.
max_pending_per_client = 10   # not yet logged in, per client address
reserved_percent = 10         # of max_connections, kept for addresses with < 2 connections or a past login
login_timeout = 120           # seconds from connect to login
command_timeout = 60          # seconds a command line may take from its first byte; also unread output

# ManageSieve (RFC 5804): mail clients upload and activate their Sieve filters.
# Plaintext until STARTTLS; logins are accepted only inside TLS.
[managesieve]
enabled = true
address = ${q(listen)}
port = 4190
max_connections = 200
max_connections_per_client = 10
idle_timeout = 1800           # seconds
max_pending_per_client = 5    # not yet logged in, per client address
reserved_percent = 10         # of max_connections, kept for addresses with < 2 connections or a past login
login_timeout = 60            # seconds from connect to login
command_timeout = 60          # seconds a command line may take from its first byte; also unread output

[auth]
# Failed logins (across all accounts) after which a client address is locked out.
# Accounts are never locked: attempts on an account under attack are spaced out
# by a delay that doubles with each recent failure, from delay_min to delay_max,
# and a client address that logged into the account before is let in at once.
max_failures = 20
window = 300                  # seconds over which failures count
lockout = 900                 # seconds a locked-out client address waits
delay_min = 1                 # seconds
delay_max = 30                # seconds
known_sources = 16            # client addresses remembered per account after a login
# An account may not hold both the mailadmin and pkiofficer roles (the CA must not be
# in the hands of whoever runs the mail); true allows it, with a warning.
# allow_pki_and_mail_admin = true

[directory]
# postmaster@, abuse@, dmarc-reports@ and tls-reports@ exist at every local
# domain without an alias (an explicit account or alias of that name wins).
# Their mail goes to this account or alias; "" = the first enabled mailadmin.
postmaster = ""

[queue]
retry_min = 60                # seconds
retry_max = 3600              # seconds
max_lifetime = 432000         # seconds (5 days) before a message bounces

[delivery]
# Outbound SMTP to other domains' MX hosts. Off: remote mail waits in the queue.
enabled = true
port = 25                     # destination port of MX hosts
max_connections = 100         # in total
per_destination = 10          # per recipient domain (or relay)
connect_timeout = 30          # seconds
# A recipient still deferred this long after arrival: one "delayed" notice to
# the sender (unless its NOTIFY left out DELAY). "30m", "4h", "1d"; 0 = off.
delay_warning = "4h"
# Deadlines in seconds (RFC 5321 4.5.3.2); on expiry the connection is
# dropped and the recipients are deferred.
command_timeout = 300         # EHLO, STARTTLS and the TLS handshake, RSET, QUIT
greeting_timeout = 300        # the server's 220 greeting
mail_timeout = 300            # reply to MAIL FROM
rcpt_timeout = 300            # reply to each RCPT TO
data_init_timeout = 120       # the 354 reply to DATA
data_block_timeout = 180      # the server must take each 64 KiB block of the message
data_timeout = 600            # reply to the end of the message
# DNS resolver "IP[:port]"; "" uses the system's first one. DANE needs a
# validating resolver you trust on a path nobody can tamper with (127.0.0.1).
resolver = ""
# Seconds to wait for the resolver's answer (twice over UDP) before a lookup
# is a temporary failure: the mail waits and a delivery.dns_failure event is recorded.
resolver_timeout = 5
# TLS level for destinations not listed below: none, may (STARTTLS when
# offered), encrypt (TLS required), verify (TLS with a valid certificate for
# the MX name), dane, dane-only, mta-sts. See docs/tls-policy.md.
tls_default = "may"
# tls_ca_file = "tls/internal-ca.pem"   # extra trust anchors for verify
tlsrpt_dir = "tlsrpt"         # where "postern tlsrpt" writes TLS reports (RFC 8460)
# Once a day (shortly after 00:00 UTC) send yesterday's TLS reports to the
# rua= of each recipient domain's _smtp._tls TXT record (mailto: through the
# queue, DKIM-signed; https: POST), at most once per domain and day.
tlsrpt_mail = true
tlsrpt_from = ""              # "" is tls-reports@<server.hostname>

[delivery.tls_policy]         # per destination; ".example.org" covers its subdomains
# "example.org" = "verify"
# "partner.example" = "dane-only"

# A smart host that takes all outbound mail, or only some domains' (mutual TLS).
# [delivery.relay]
# host = "exchange.internal.example"
# port = 25
# level = "verify"            # destinations' own tls_policy still holds through the relay (the stricter wins)
# domains = []                # empty: all mail; or ["example.com", ".example.com"]
# cert = "tls/client.pem"     # client certificate and key, for mutual TLS
# key = "tls/client.key"
# ca_file = "tls/internal-ca.pem"

[integrity]
# The background scrubber reads and verifies every stored block (repairing
# single flipped bits) and checks the metadata database.
scrub_interval = 24           # hours between full scrubs; 0 turns it off
scrub_rate = 20               # MB/s it may read, so mail traffic keeps the disk
# Garbage collection removes the blobs of expunged and delivered mail (after a
# grace hour), header cache entries nothing uses, and old events; see "postern gc".
gc_interval = 24              # hours between collections; 0 turns it off
events_retention_days = 90    # events older than this are removed (the newest of each kind stays); 0 keeps all

[limits]
# MiB of message data that all listeners together may hold in memory while
# receiving it (SMTP DATA, IMAP APPEND). When it is spent, SMTP answers
# 452 4.3.1 and IMAP APPEND NO [UNAVAILABLE]: the client retries later.
memory_budget = 512

[policy]
# Every message passes these stages. A stage that cannot decide (an error, its
# time budget spent) fails closed: 451 in-line, the message waits after the
# queue. fail_open = true lets such mail through unchecked; avoid it.
authserv_id = ""              # our name in Authentication-Results; "" = server.hostname
worker_threads = 2            # threads for content work (parsing, DKIM hashing, detectors)
max_queued = 256              # content tasks waiting for a thread; beyond it, 451
scan_lease = 60               # seconds a scan after the queue holds a message (at least the stages' budgets together) before it is scanned again
release_roles = ["auditor"]   # roles that may release or delete quarantined mail

[policy.auth]
# SPF (MAIL FROM and HELO), DKIM, ARC and DMARC on mail from the Internet, through
# [delivery] resolver. DMARC p=reject is refused (550 5.7.1), p=quarantine goes to Junk.
enabled = true
budget_ms = 10000
fail_open = false
temperror = "tempfail"        # a DNS failure: "tempfail" (451, the sender retries) or "accept"
trusted_arc_sealers = []      # forwarders and lists whose ARC seal may override a DMARC failure
dmarc_overrides = {}          # per From domain: "policy", "none", "quarantine" or "reject"

[policy.spoof]
# Detectors: own-domain, internal-forgery, display-name, lookalike, reply-to,
# bogus-transaction, malformed-from. Actions: "off", "tag" (a header and a
# warning at the top of the body), "quarantine" or "reject".
enabled = true
budget_ms = 5000
fail_open = false
phase = "inline"              # or "after-queue" (then reject becomes quarantine)
partner_domains = []          # look-alikes of these count too
internal_networks = []        # e.g. ["10.0.0.0/8"]: unauthenticated mail from them claiming a local sender
actions = {}                  # e.g. { "own-domain" = "quarantine", lookalike = "tag" }

[policy.dmarc_reports]
# Mail to <local_part>@<each local domain> is read as DMARC aggregate reports
# (see "postern dmarc report") and delivered to the postmaster ([directory]).
enabled = true
budget_ms = 30000
fail_open = false
local_part = "dmarc-reports"

[policy.attachments]
# Files refused by extension (the last one; "invoice.pdf.exe" is a double
# extension) and by true type (magic bytes, whatever the name says), also
# inside ZIP archives. An archive that cannot be opened within the limits
# (a zip bomb, nested too deep, corrupt) counts as blocked.
enabled = true
budget_ms = 10000
fail_open = false
phase = "inline"              # or "after-queue" (then reject becomes quarantine)
action = "reject"             # "reject" (550 5.7.1 naming the file) or "quarantine"
block_extensions = ${JSON.stringify(DEFAULT_BLOCK_EXTENSIONS)}
block_types = ${JSON.stringify(DEFAULT_BLOCK_TYPES)}
block_unreadable_archives = true
max_archive_depth = 3         # archives inside archives opened, at most
max_unpacked_mib = 100        # decoded and uncompressed MiB per message
max_ratio = 100               # uncompressed:compressed of an archive entry over 1 MiB
max_archive_entries = 1000    # archive entries per message
# Per direction, any of enabled, action, block_extensions, block_types:
# [policy.attachments.outbound]
# block_types = ["exe"]

[policy.malware]
# Virus scanning with clamd (Debian: clamav-daemon), the static checks and YARA
# rules. On when clamd or yara below is set. A detection is refused in-line (550 5.7.1) or held in quarantine after
# the queue; an engine that is down fails closed (451, or the message waits).
budget_ms = 30000
fail_open = false
phase = { inbound = "after-queue", outbound = "after-queue", internal = "after-queue" }   # or "inline"
action = { inline = "reject", after_queue = "quarantine" }    # or "quarantine"; "tag" (deliver, marked)
# [policy.malware.clamav]
# socket = "/run/clamav/clamd.ctl"   # or host = "127.0.0.1" and port = 3310
# max_connections = 8
# timeout_ms = 30000

[policy.malware.static]
# Checks without signatures: macro documents, executables disguised by name or
# type, HTML smuggling, encrypted archives, zip bombs; and known-bad SHA-256.
enabled = true
budget_ms = 10000
# bad_hashes_file = "bad-hashes.txt"   # one hex digest a line, optionally a name after it

[policy.malware.yara]
# Debian's yara over each part, with the *.yar/*.yara rules in rules_dir.
enabled = false
rules_dir = "yara"
timeout_ms = 30000

[policy.dlp]
# Data-loss prevention: the rules file says what is confidential (payment
# cards, IBANs, secrets, labelled mail, registered documents, ...) and what
# each rule does per direction: log, tag, require_tls, encrypt, hold or reject. Every
# match is counted by rule and the sender's group ("postern dlp report").
# On when rules is set; "postern dlp test" explains what a message matches.
${opts.dlpRules === undefined ? '# rules = "dlp-rules.toml"' : `rules = ${q(opts.dlpRules)}`}
phase = { inbound = "after-queue", outbound = "inline", internal = "inline" }   # in-line can refuse with 550
budget_ms = 15000
fail_open = false
max_text_chars = 20000000     # characters of text read per message, all parts together
max_pdf_pages = 1000          # pages read per PDF
encrypt_cipher = "aes-256-gcm"   # the "encrypt" action; "aes-256-cbc" for clients without GCM (gpgsm 2.2)

# [policy.smime]
# S/MIME signatures on received mail are checked (on unless enabled = false):
# each message gets X-Postern-SMIME: valid | tampered | invalid | untrusted |
# malformed (signer <address>); a valid signer must be the From address.
# enabled = true
# trust_anchors = "smime-ca.pem"    # CA certificates (PEM); none = every signature is at best "untrusted"
# phase = "after-queue"             # or "inline"
# directions = ["inbound", "internal"]
# budget_ms = 10000
# fail_open = false
# on_tampered = "tag"               # "tag", "quarantine" (hold) or "pass"
# on_invalid = "tag"
# learn_certificates = true         # keep a valid signer's certificate for its address (source "learned")

[metrics]
enabled = true                # every event also becomes a Prometheus counter and a log line
message_events = true         # an event per SMTP session, accepted message and outbound delivery (the TLS-share figures)

[maintenance]
# Planned maintenance, in UTC: downtime inside a window counts as planned, not
# as an outage. Windows can also be declared as they happen with
# "postern maintenance start|end".
windows = []                  # e.g. [{ start = 2027-01-09T22:00:00Z, end = 2027-01-09T23:30:00Z, reason = "OS upgrade" }]
weekly = []                   # e.g. [{ day = "sun", at = "02:00", minutes = 120, reason = "patching" }]

[alerts]
# Integrity and availability events that need a human (damaged blobs, failed
# backups, unplanned downtime, a full disk, an expiring certificate, old
# mail in the queue, ...) go out as mail through the queue and as a signed
# webhook (X-Postern-Signature, see README "Alerts").
enabled = false
mail_to = []                  # e.g. ["ops@example.org"]; local and remote addresses both work
mail_from = ""                # "" = postmaster@<server.hostname>
webhook_url = ""              # https://..., or http:// to loopback only
webhook_secret_file = ""      # the HMAC key (one line, at least 16 bytes); required with webhook_url
min_severity = "warning"      # or "critical"
poll_interval = 5             # seconds between reads of new events
cert_warn_days = 14           # raise tls.cert_expiring this many days before the [tls] cert expires
queue_age_warn = 14400        # seconds; raise queue.old when the oldest waiting message is older

[alerts.rate]
# Per kind: at most max_per_window alerts in each window (seconds); the rest are
# counted and sent as one summary when the window ends.
max_per_window = 5
window = 600
[probe]
# A synthetic probe: every interval seconds it sends a message to its own
# account and reads it back over IMAP; a failed round starts an outage,
# recorded as availability.downtime (cause "probe") when a round succeeds
# again. Also runs on its own: "postern probe run [--once]".
enabled = false
interval = 60                 # seconds between rounds
timeout = 30                  # seconds the whole round trip may take
# address = "probe@${c(opts.domain)}"   # an existing account, used only by the probe
# password_file = "probe.password"      # its password (first line)
smtp = "mx"                   # "mx" (unauthenticated, STARTTLS) or "submission" (logs in)
host = "127.0.0.1"            # where the listeners are
# ca_file = "tls/cert.pem"    # the certificate to trust; default [tls] cert
[admin]
# HTTPS listener for /metrics (Prometheus) and the JSON API under /api/v1,
# with the certificate, key and min_version of [tls]. Access needs the bearer
# token in metrics_token_file or a client certificate signed by client_ca;
# with neither set, /metrics and /api/v1 answer 403.
enabled = true
address = "127.0.0.1"
port = 8443
# metrics_token_file = "admin/token"      # first line: the token (32+ characters), mode 0600
# client_ca = "tls/admin-ca.pem"           # CA of the client certificates that may scrape
# redirect_port = 8080                     # plain HTTP that only redirects (301) to https
# Without a token it also serves what mail clients and other servers fetch:
# /.well-known/mta-sts.txt (for Host mta-sts.<domain>), client autoconfiguration
# (Thunderbird's config-v1.1.xml, Outlook's autodiscover.xml) and /pki/ca.pem,
# ca.crt, crl.pem, crl.crl from the pki/ folder. Expose it on port 443 for those.

[mta_sts]
# The MTA-STS policy (RFC 8461); its id in the _mta-sts TXT record changes with it.
enabled = true
mode = "testing"              # "testing", "enforce" or "none"
max_age = 604800              # seconds (1 week) senders cache the policy
mx = []                       # MX host names; empty = server.hostname

[pki]
# crl_url = "${c(`https://${opts.hostname}/pki/crl.crl`)}"  # CRL distribution point put into issued certificates

[report]
# "postern report" measures availability against this target: the percentage
# of the report's window without unplanned downtime (maintenance does not count).
sla_target = 99.9

# [encryption_at_rest]
# Mail delivered to the accounts covered here is stored encrypted (S/MIME) to
# the owner's certificates ("postern cert import"): the server, its admins and
# its backups hold no key that opens it; the owner's mail client decrypts.
# Covered: accounts listed, members of groups listed, every account of domains
# listed. outer_fields stay in clear so IMAP can list, thread and search by
# them; each is readable by an administrator. Subject in clear helps search but
# leaks what a message is about; the strictest useful set is
# ["From", "To", "Date", "Message-ID"]. The whole message is also inside.
# enabled = false
# domains = ["example.org"]
# accounts = []
# groups = []
# outer_fields = ["From", "To", "Cc", "Date", "Subject", "Message-ID", "In-Reply-To", "References"]
# cipher = "aes-256-gcm"              # or "aes-256-cbc" for clients without AuthEnvelopedData
# missing_certificate = "deliver"     # or "defer": keep it queued until a certificate is imported
# budget_ms = 30000                   # encryption time per recipient; over it the recipient is deferred

[posture]
# What "postern audit" holds the installation to (it also checks TLS on every
# listener, logins only inside TLS, the malware engines, roles and the audit log).
max_scrub_age = 72            # hours since the last full scrub (see [integrity] scrub_interval)
max_backup_age = 48           # hours since the last verified backup ("postern backup", "postern backup verify")
require_at_rest_groups = []   # groups whose every member [encryption_at_rest] must cover, e.g. ["board"]

[log]
# fatal, error, warn, info, debug, trace or silent.
level = "info"
`;
}
