"""Health checks as an operator sees them (/status?format=json through curl), quick check options,
and the peers check tests need: a server that accepts and never answers, a self-signed certificate."""
import json
import socket
import subprocess
import threading

from .http import curl
from .waiting import wait_until


def status(v):
    """vigil V's /status?format=json, parsed."""
    code, body, _ = curl(v.url("/status?format=json"))
    assert code == 200, body
    return json.loads(body)


def check(v, name):
    """Check NAME's entry in V's /status JSON."""
    for c in status(v)["checks"]:
        if c["name"] == name:
            return c
    raise AssertionError(f"no check {name}")


def wait_check(v, name, state, timeout=10, runs=1):
    """Waits until check NAME has STATUS and at least RUNS runs; returns its JSON."""
    def ready():
        c = check(v, name)
        return c if c["status"] == state and c["runs"] >= runs else None
    try:
        return wait_until(ready, timeout, what=f"{name} {state}")
    except AssertionError:
        raise AssertionError(f"{name} never became {state}: {check(v, name)}\nlog: {v.stderr()}")


def fast(name, interval="200ms", timeout="200ms", failures=1, **options):
    """Environment for VIGIL_CHECK_<NAME>'s options: quick schedule, FAILURES=1 by default."""
    env = {f"VIGIL_CHECK_{name}_INTERVAL": interval, f"VIGIL_CHECK_{name}_TIMEOUT": timeout,
           f"VIGIL_CHECK_{name}_FAILURES": str(failures)}
    env.update({f"VIGIL_CHECK_{name}_{k.upper()}": str(value) for k, value in options.items()})
    return env


def self_signed_certificate(directory):
    """(cert.pem, key.pem) in DIRECTORY: RSA 2048, CN=localhost, valid for a day (openssl)."""
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
    return str(cert), str(key)


class SilentServer:
    """Accepts connections and never answers; remembers them to see whether vigil closes them."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def open_connections(self):
        """How many accepted connections the peer has not closed (reads what they sent to see EOF)."""
        count = 0
        for conn in self.accepted:
            conn.setblocking(False)
            try:
                while True:
                    if conn.recv(65536) == b"":
                        break  # closed by vigil
            except BlockingIOError:
                count += 1  # still open
            except OSError:
                continue
        return count

    def close(self):
        self.closed = True
        for conn in self.accepted:
            conn.close()
        self.sock.close()
