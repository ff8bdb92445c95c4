"""The connection-aware drain (VIGIL_DRAIN_PORTS) from outside: the demo app under vigil speaking
HTTP/1.1 keep-alive, and clients that hold a connection idle or keep a slow request in flight."""
import collections
import http.client
import threading
import time

from .paths import DEMO_APP, PYTHON
from .ports import free_port, wait_port
from .vigil import Vigil


def demo_under_vigil(tmp_path, drain_timeout="10s", host="127.0.0.1", env=None, prefix=(), python=PYTHON):
    """vigil running the demo app (keep-alive, listening at once on HOST, with PYTHON) with its
    port as the only drain port and a 200 ms drain delay; returns (vigil, the app's port) once
    vigil is ready."""
    port = free_port()
    settings = {"VIGIL_DRAIN_DELAY": "200ms", "VIGIL_DRAIN_PORTS": str(port), "VIGIL_DRAIN_TIMEOUT": drain_timeout,
                "PORT": str(port), "HOST": host, "STARTUP_DELAY": "0", "KEEPALIVE": "1"}
    settings.update(env or {})
    vigil = Vigil([python, DEMO_APP], env=settings, prefix=prefix, tmp_path=tmp_path)
    wait_port(port, vigil.proc, what="the demo app under vigil", log=vigil.stderr)
    vigil.wait_for("/readyz", 200)
    return vigil, port


class KeepAlive:
    """One HTTP/1.1 connection to 127.0.0.1:PORT, kept open between requests like a pooling client's."""

    def __init__(self, port, timeout=30):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.answer = {}
        self.thread = None

    def get(self, path):
        """(status, body, the Connection header) of one request on the connection."""
        self.connection.request("GET", path)
        response = self.connection.getresponse()
        return response.status, response.read(), response.getheader("Connection")

    def start(self, path):
        """Sends the request now and reads its answer in the background (see `finish`)."""
        self.connection.request("GET", path)
        self.answer["sent"] = time.monotonic()

        def read():
            try:
                response = self.connection.getresponse()
                self.answer.update(status=response.status, body=response.read())
            except OSError as error:
                self.answer.update(status=0, body=str(error).encode())
            self.answer["at"] = time.monotonic()

        self.thread = threading.Thread(target=read, daemon=True)
        self.thread.start()

    def finish(self, timeout=30):
        """{status, body, sent, at: when it was read in full} of the request `start` sent."""
        self.thread.join(timeout)
        return self.answer

    def close(self):
        self.connection.close()


# What a stop across open connections showed: vigil's exit code, when it was signalled and when
# it had exited (monotonic), the slow request's answer (None without one), and vigil's log.
Stop = collections.namedtuple("Stop", "code signalled exited answer log")


def stop_across(vigil, port, idle=0, slow_ms=None, answered_before=0):
    """Opens IDLE keep-alive connections, each answered once; with SLOW_MS, one more connection
    that has ANSWERED_BEFORE requests answered (then waits past the clock tick) and GET
    /slow?ms=SLOW_MS in flight. Then SIGTERMs vigil and waits for it and for the slow answer."""
    clients = [KeepAlive(port) for _ in range(idle + (slow_ms is not None))]
    try:
        for client in clients[:idle]:
            status, _, connection = client.get("/")
            assert (status, connection) == (200, None), "the app keeps the connection open"
        if slow_ms is not None:
            for _ in range(answered_before):
                assert clients[-1].get("/")[0] == 200
                time.sleep(0.05)
            clients[-1].start(f"/slow?ms={slow_ms}")
        signalled = time.monotonic()
        vigil.signal(15)
        code = vigil.wait(timeout=60)
        exited = time.monotonic()
        answer = clients[-1].finish() if slow_ms is not None else None
        return Stop(code, signalled, exited, answer, vigil.stderr())
    finally:
        for client in clients:
            client.close()
        vigil.stop()
