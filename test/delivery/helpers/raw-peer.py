"""A hostile SMTP peer on 127.0.0.1 for outbound delivery tests.

Its behaviour depends on the domain of the first RCPT of a transaction:
  stall.test  the first time: answer 354 to DATA, then never read again (the
              socket has a tiny receive buffer, so the sender soon blocks);
              held for at most HOLD seconds
  flood.test  accept the message, then send endless reply lines without being
              asked, until the client closes or FLOOD_MAX bytes are sent
  otherwise   a plain, well-behaved server
Prints one line per event on stdout: PORT n, STALLED, DELIVERED rcpts bytes,
FLOOD sent, CLOSED.
"""
import socket
import sys
import threading

HOLD = 60
FLOOD_MAX = 256 * 1024 * 1024
lock = threading.Lock()
stalled_once = [False]


def say(line):
    with lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def serve(conn):
    f = conn.makefile("rb")
    try:
        conn.sendall(b"220 raw.peer.test ESMTP\r\n")
        rcpts = []
        while True:
            line = f.readline(4096)
            if not line:
                return
            cmd = line.strip().upper()
            if cmd.startswith(b"EHLO"):
                conn.sendall(b"250-raw.peer.test\r\n250 8BITMIME\r\n")
            elif cmd.startswith(b"HELO") or cmd.startswith(b"MAIL") or cmd.startswith(b"RSET"):
                if cmd.startswith(b"RSET") or cmd.startswith(b"MAIL"):
                    rcpts = []
                conn.sendall(b"250 ok\r\n")
            elif cmd.startswith(b"RCPT"):
                rcpts.append(line.strip()[8:].strip(b"<>").decode("latin1"))
                conn.sendall(b"250 ok\r\n")
            elif cmd == b"DATA":
                domain = rcpts[0].rsplit("@", 1)[-1] if rcpts else ""
                conn.sendall(b"354 go ahead\r\n")
                with lock:
                    stall = domain == "stall.test" and not stalled_once[0]
                    if stall:
                        stalled_once[0] = True
                if stall:
                    say("STALLED")
                    conn.settimeout(HOLD)
                    try:
                        # Wait for the client to give up; read nothing (a close shows as an error or EOF on recv(0)).
                        threading.Event().wait(HOLD)
                    finally:
                        return
                size = 0
                while True:
                    l = f.readline(1 << 20)
                    if not l:
                        return
                    if l == b".\r\n":
                        break
                    size += len(l)
                say("DELIVERED %s %d" % (",".join(rcpts), size))
                conn.sendall(b"250 2.0.0 accepted\r\n")
                if domain == "flood.test":
                    chunk = b"250-" + b"x" * 1020 + b"\r\n"
                    chunk = chunk * 64
                    sent = 0
                    try:
                        while sent < FLOOD_MAX:
                            conn.sendall(chunk)
                            sent += len(chunk)
                    except OSError:
                        pass
                    say("FLOOD %d" % sent)
                    return
            elif cmd == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"502 not here\r\n")
    except OSError:
        pass
    finally:
        say("CLOSED")
        try:
            conn.close()
        except OSError:
            pass


def main():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Inherited by accepted sockets: a small window, so a reader that stops reading is felt at once.
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    say("PORT %d" % srv.getsockname()[1])
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
