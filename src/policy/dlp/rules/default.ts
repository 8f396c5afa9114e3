/**
 * The rules file `postern init` writes beside postern.toml (dlp-rules.toml):
 * sensible defaults an administrator adapts and keeps under version control.
 * Personal and financial data leaving the organisation goes out only over
 * verified TLS and is tagged; secrets and classified (labelled) mail is held
 * for review with a notice to the sender; inbound and internal mail is only
 * counted.
 */
export const DEFAULT_RULES_TOML = `# postern DLP rules (data-loss prevention). Checked at start; a mistake stops
# "postern start" and names the key and the reason. Changes are picked up
# within a minute (a bad new version keeps the old rules and logs why).
# "postern dlp test <file>" shows what a message or document would match.
#
# Directions: inbound (Internet to us), outbound (us to the Internet),
# internal (us to us). Actions per direction, strictest first:
#   reject       refuse with 550 5.7.1 and a clear text (held if already accepted)
#   hold         keep in quarantine for review ("postern quarantine list")
#   encrypt      S/MIME-encrypt to every recipient's certificate ("postern cert
#                import"); when one has none, encrypt_fallback = "hold" (the
#                default) or "reject" decides: never sent in clear. Outbound
#                and internal only.
#   require_tls  deliver only over TLS with a verified certificate, never in clear
#   tag          add X-Postern-DLP (and subject_tag to the Subject)
#   log          only count the match ("postern dlp report")
# Every match is counted by rule, the sender's group and direction.

version = 1

# Put in front of the Subject by the action "tag" ("" for none).
subject_tag = ""

# Outside domains counted as "partner" rather than "external" in reports.
partner_domains = []

# Encrypted content (a password-protected archive or document, or an S/MIME or
# PGP message) leaving the organisation cannot be looked at: it counts as a
# match of this rule ("" to switch off).
unscannable_rule = "unscannable"

# Registered documents, <name>.fp.json ("postern dlp fingerprint add"),
# relative to this file.
fingerprint_dir = "fingerprints"

# Groups of the directory ("postern group add"). A manager is notified when a
# rule says notify = ["manager"] and a member's mail matches.
# [groups.legal]
# manager = "counsel@example.org"

# ---------------------------------------------------------------- detectors
# Built-in types: credit_card, iban, us_ssn, uk_nino, aba_routing,
# private_key, cloud_key, jwt, password. Others: keywords, label,
# fingerprint, regex (RE2 syntax: runs in linear time, no backreferences).
# Each hit has a confidence (low, medium, high): a number that passes its
# checksum is medium, with a keyword nearby ("card", "IBAN", "SSN") high.

[detectors.cards]
type = "credit_card"

[detectors.iban]
type = "iban"

[detectors.us_ssn]
type = "us_ssn"

[detectors.uk_nino]
type = "uk_nino"

[detectors.aba]
type = "aba_routing"

[detectors.private_keys]
type = "private_key"

[detectors.cloud_keys]
type = "cloud_key"

[detectors.jwt]
type = "jwt"

[detectors.passwords]
type = "password"

[detectors.labels]
type = "label"
headers = [
  { name = "X-Classification", values = ["confidential", "secret"] },
  { name = "msip_labels", values = ["Confidential", "Secret"] },
]
subject_tags = ["[Confidential]", "[Secret]"]

# A keyword example:
# [detectors.privileged]
# type = "keywords"
# terms = ["privileged", "confidential"]
# near = { terms = ["attorney-client", "legal advice"], words = 10 }

# A custom pattern example:
# [detectors.project]
# type = "regex"
# pattern = "PRJ-[0-9]{4}-[A-Z]{2}"
# confidence = "high"

# ---------------------------------------------------------------- rules
# match = "any" (one detector is enough) or "all"; min_confidence: hits below
# it do not count; min_count: distinct values a detector must find.
# notify = ["sender"] and/or ["manager"] (outbound and internal mail only,
# never to outside senders; the notice shows masked values only).
# An encrypting rule, e.g.:
#   outbound = ["encrypt", "tag"]
#   encrypt_fallback = "reject"   # no certificate for a recipient: 550

[[rules]]
name = "payment-cards"
description = "Payment card numbers (PCI DSS)"
detectors = ["cards"]
min_confidence = "medium"
outbound = ["require_tls", "tag"]
internal = ["log"]
inbound = ["log"]

[[rules]]
name = "personal-data"
description = "National identifiers and bank accounts"
detectors = ["iban", "us_ssn", "uk_nino"]
min_confidence = "medium"
outbound = ["require_tls", "tag"]
internal = ["log"]
inbound = ["log"]

[[rules]]
name = "bank-routing"
description = "US bank routing numbers, only with a keyword nearby (9 digits alone are too common)"
detectors = ["aba"]
min_confidence = "high"
outbound = ["require_tls", "tag"]
internal = ["log"]
inbound = ["log"]

[[rules]]
name = "secrets"
description = "Private keys, cloud credentials, tokens and passwords"
detectors = ["private_keys", "cloud_keys", "jwt", "passwords"]
min_confidence = "medium"
outbound = ["hold"]
internal = ["log"]
inbound = ["log"]
notify = ["sender"]

[[rules]]
name = "classified"
description = "Mail labelled confidential or secret (header field or subject tag)"
detectors = ["labels"]
min_confidence = "medium"
outbound = ["hold"]
internal = ["log"]
inbound = ["log"]
notify = ["sender"]

[[rules]]
name = "unscannable"
description = "Encrypted content leaving the organisation (its content cannot be checked)"
detectors = []
outbound = ["log"]
internal = ["log"]
inbound = ["log"]
`;
