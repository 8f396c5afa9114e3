"""Runs one POP3 session with Python's poplib and prints the results as JSON.

Connection settings come from the environment (POP3_HOST, POP3_PORT,
POP3_MODE = "ssl" | "stls" | "plain", POP3_CA, POP3_USER, POP3_PASS); the
operations come as a JSON list on stdin, e.g. [["stat"], ["retr", 1], ["quit"]].
Message bytes are returned base64-encoded, rebuilt from poplib's lines
(which poplib has already un-stuffed) with CRLF line ends.
"""
import base64
import json
import os
import poplib
import ssl
import sys


def body(lines):
    return base64.b64encode(b"".join(line + b"\r\n" for line in lines)).decode("ascii")


def run(pop, op):
    name, args = op[0], op[1:]
    if name == "login":
        pop.user(os.environ["POP3_USER"])
        return pop.pass_(os.environ["POP3_PASS"]).decode("latin1")
    if name == "user":
        return pop.user(args[0]).decode("latin1")
    if name == "pass":
        return pop.pass_(args[0]).decode("latin1")
    if name == "capa":
        return sorted(pop.capa().keys())
    if name == "stls":
        ctx = ssl.create_default_context(cafile=os.environ["POP3_CA"])
        return pop.stls(context=ctx).decode("latin1")
    if name == "stat":
        return list(pop.stat())
    if name == "list":
        return [line.decode("latin1") for line in pop.list()[1]]
    if name == "uidl":
        return [line.decode("latin1") for line in pop.uidl()[1]]
    if name == "retr":
        return body(pop.retr(args[0])[1])
    if name == "top":
        return body(pop.top(args[0], args[1])[1])
    if name == "dele":
        return pop.dele(args[0]).decode("latin1")
    if name == "rset":
        return pop.rset().decode("latin1")
    if name == "noop":
        return pop.noop().decode("latin1")
    if name == "quit":
        return pop.quit().decode("latin1")
    if name == "drop":
        # Leave without QUIT: close the socket under poplib.
        pop.sock.close()
        return "dropped"
    raise ValueError("unknown op " + name)


def main():
    ops = json.load(sys.stdin)
    host, port, mode = os.environ["POP3_HOST"], int(os.environ["POP3_PORT"]), os.environ["POP3_MODE"]
    if mode == "ssl":
        ctx = ssl.create_default_context(cafile=os.environ["POP3_CA"])
        pop = poplib.POP3_SSL(host, port, context=ctx, timeout=30)
    else:
        pop = poplib.POP3(host, port, timeout=30)
    results = []
    for op in ops:
        try:
            results.append({"ok": run(pop, op)})
        except poplib.error_proto as e:
            results.append({"error": str(e.args[0].decode("latin1") if isinstance(e.args[0], bytes) else e.args[0])})
    json.dump({"welcome": pop.getwelcome().decode("latin1"), "results": results}, sys.stdout)


main()
