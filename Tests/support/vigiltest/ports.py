"""Ports on 127.0.0.1: free ones, waiting until something listens, reading a reply to its end."""
import socket
import time


def free_port():
    """A port nothing listens on right now (the kernel's choice for an ephemeral bind)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc=None, timeout=10.0, what="process", log=lambda: ""):
    """Waits until 127.0.0.1:PORT accepts a connection. Fails at once when PROC has exited, so a
    crash reads as a crash, not as a timeout; LOG() adds the process's output to the message."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise AssertionError(f"{what} exited early ({proc.returncode}): {log()}")
            time.sleep(0.02)
    raise AssertionError(f"{what} does not listen on 127.0.0.1:{port} after {timeout}s: {log()}")


def receive_all(sock):
    """Everything SOCK receives until the peer closes, as bytes."""
    chunks = []
    while True:
        data = sock.recv(65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)
