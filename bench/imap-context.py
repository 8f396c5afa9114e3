# What an updating search (SEARCH RETURN (UPDATE), RFC 5267) costs a flag
# change: the median round trip of STORE +FLAGS/-FLAGS (Flagged) on a folder
# of N messages while the session holds K updating searches for
# "OR FLAGGED SUBJECT nomatch" (a header criterion: one header-cache query per
# 1,000 messages each time the search is run again). Each STORE changes a
# flag, so every one makes each search run again.
#
# Against a running `postern start --dev --port-offset 28000`:
#   /usr/bin/python3 bench/imap-context.py PASSWORD N K [ROUNDS]
# The folder benchN of demo@example.test is filled up to N messages first.
import imaplib
import ssl
import statistics
import sys
import time

password, n, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 100
tls = ssl.create_default_context()
tls.check_hostname = False
tls.verify_mode = ssl.CERT_NONE  # the dev server's certificate is self-signed
c = imaplib.IMAP4_SSL('127.0.0.1', 28993, ssl_context=tls, timeout=60)
c.login('demo@example.test', password)
box = f'bench{n}'
c.create(box)
have = int(c.select(box)[1][0])
msg = b'From: a@example.test\r\nSubject: bench\r\n\r\nbody\r\n'
for _ in range(have, n):
    c.append(box, None, None, msg)
c.select(box)
c.store('1:*', '-FLAGS.SILENT', '(\\Flagged)')
for _ in range(k):
    c.uid('SEARCH', 'RETURN (UPDATE) OR FLAGGED SUBJECT nomatch')
times = []
for r in range(rounds):
    started = time.perf_counter()
    c.store(str(1 + (r // 2) % n), '+FLAGS' if r % 2 == 0 else '-FLAGS', '(\\Flagged)')
    times.append(time.perf_counter() - started)
print(f'messages={n} updating_searches={k} median_store_ms={statistics.median(times) * 1000:.2f}')
c.logout()
