# LOGIN round trip over IMAPS, as a client that reconnects sees it: for each
# of N sequential connections, the time from sending LOGIN to its tagged
# response (the TLS handshake and greeting are timed apart). Run it alone or
# beside a load (imaptest) to see LOGIN under load. Works against any IMAPS
# server (postern or Dovecot), so the two can be compared in one sitting.
#
#   /usr/bin/python3 bench/imap-login.py PORT USER PASSWORD [N]
# e.g. against `postern start --dev --port-offset 28000`:
#   /usr/bin/python3 bench/imap-login.py 28993 demo@example.test PASSWORD 200
import socket
import ssl
import statistics
import sys
import time

port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
n = int(sys.argv[4]) if len(sys.argv) > 4 else 100
tls = ssl.create_default_context()
tls.check_hostname = False
tls.verify_mode = ssl.CERT_NONE  # dev and test servers use self-signed certificates


def read_until(f, tag):
    """Lines up to and including the one tagged `tag` (bounded: a server that never answers times out)."""
    for _ in range(1000):
        line = f.readline()
        if not line:
            raise RuntimeError('connection closed')
        if line.startswith(tag + b' '):
            return line
    raise RuntimeError('no tagged response')


def quoted(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'


connect, login = [], []
for i in range(n):
    t0 = time.perf_counter()
    raw = socket.create_connection(('127.0.0.1', port), timeout=30)
    s = tls.wrap_socket(raw)
    s.settimeout(30)
    f = s.makefile('rb')
    f.readline()  # greeting
    t1 = time.perf_counter()
    s.sendall(f'a LOGIN {quoted(user)} {quoted(password)}\r\n'.encode())
    line = read_until(f, b'a')
    t2 = time.perf_counter()
    if not line.startswith(b'a OK'):
        raise RuntimeError(f'LOGIN refused: {line!r}')
    s.sendall(b'b LOGOUT\r\n')
    read_until(f, b'b')
    s.close()
    connect.append(t1 - t0)
    login.append(t2 - t1)


def ms(xs, q):
    return sorted(xs)[min(len(xs) - 1, int(q * len(xs)))] * 1000


print(f'connections={n} login_median_ms={statistics.median(login) * 1000:.1f} login_p90_ms={ms(login, 0.9):.1f} '
      f'connect_tls_greeting_median_ms={statistics.median(connect) * 1000:.1f}')
