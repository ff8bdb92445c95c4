"""HTTP the way the tests need it: real curl (what operators type) and a raw HTTP/1.0 GET (what
load balancers send), both returning 0 as the status when there was no answer."""
import re
import socket
import subprocess
import time

from .ports import receive_all


def curl(url, *args, timeout=5):
    """(status, body, raw response headers) from a real curl; status 0 when the connection failed."""
    result = subprocess.run(
        ["curl", "-sS", "-o", "-", "-D", "/dev/stderr", "-w", "\n%{http_code}", "--max-time", str(timeout),
         *args, url], capture_output=True, text=True)
    body, _, code = result.stdout.rpartition("\n")
    return int(code or 0), body, result.stderr


def http_get(port, path="/", timeout=2.0, method="GET", headers=None):
    """(status, body) over a fresh HTTP/1.0 connection to 127.0.0.1:PORT, with HEADERS ({name:
    value}); (0, error) when the connection failed."""
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(f"{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n{extra}Content-Length: 0\r\n\r\n".encode())
            raw = receive_all(s)
    except OSError as error:
        return 0, str(error)
    head, _, body = raw.decode(errors="replace").partition("\r\n\r\n")
    match = re.match(r"HTTP/\d\.\d (\d{3})", head)
    return (int(match.group(1)) if match else 0), body


def keepalive_connections(port, count, path="/", timeout=5.0):
    """COUNT HTTP/1.1 keep-alive connections to 127.0.0.1:PORT, each having made one GET of PATH
    and read its whole answer (Content-Length framed), one after the other; left open and idle.
    Returns (sockets, statuses); the caller closes the sockets."""
    sockets, statuses = [], []
    try:
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
            sockets.append(s)
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            statuses.append(_read_response(s))
    except BaseException:
        for s in sockets:
            s.close()
        raise
    return sockets, statuses


def _read_response(sock):
    """The status of one Content-Length framed response read from SOCK; 0 when the connection
    closed or timed out first."""
    raw = b""
    try:
        while b"\r\n\r\n" not in raw:
            data = sock.recv(65536)
            if not data:
                return 0
            raw += data
        head, _, body = raw.partition(b"\r\n\r\n")
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        missing = (int(length.group(1)) if length else 0) - len(body)
        while missing > 0:
            data = sock.recv(missing)
            if not data:
                return 0
            missing -= len(data)
    except OSError:
        return 0
    match = re.match(rb"HTTP/\d\.\d (\d{3})", head)
    return int(match.group(1)) if match else 0


def wait_status(port, path, status, timeout=10, proc=None, what="vigil"):
    """Polls PATH with http_get until it answers STATUS; returns the body. Fails at once when
    PROC has exited."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = http_get(port, path)
        if last[0] == status:
            return last[1]
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what} exited early ({proc.returncode})")
        time.sleep(0.05)
    raise AssertionError(f"{what}: {path} did not answer {status} within {timeout}s (last: {last})")


def raw_exchange(port, data, timeout=3.0):
    """Sends DATA (bytes) over a fresh connection to 127.0.0.1:PORT and returns every byte that
    comes back until the peer closes or TIMEOUT passes without a byte."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except socket.timeout:
            pass
    return b"".join(chunks)


def statuses(raw):
    """The status codes of every response in RAW (bytes), in order."""
    return [int(code) for code in re.findall(rb"HTTP/1\.[01] (\d{3}) ", raw)]
