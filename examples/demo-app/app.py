#!/usr/bin/env python3
"""A small web app that behaves like most real ones, for vigil's demos and tests.

- It starts slowly: it sleeps STARTUP_DELAY seconds (default 1) before it listens on HOST:PORT
  (default 0.0.0.0:8080; HOST=:: for IPv6 and dual stack), like an app that loads its
  configuration and warms caches first.
- It stops at once on SIGTERM, as most apps do: it does not finish in-flight requests and does not
  wait for the load balancer to notice. (That is the behaviour vigil's drain exists to hide.)

Endpoints (HTTP/1.0, one request per connection; KEEPALIVE=1 for HTTP/1.1 keep-alive, as most
production servers do):
  GET /            200 "hello from <pid>"
  GET /health      200 "ok <pid>", or 500 after /sick
  GET /slow?ms=N   200 after N milliseconds (an in-flight request that takes a while)
  GET /sick        from now on /health answers 500 (to exercise liveness restarts)
  GET /pid         the process id

Standard library only; Python 3.8+.
"""
import os
import signal
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PORT = int(os.environ.get("PORT", "8080"))
HOST = os.environ.get("HOST", "0.0.0.0")
STARTUP_DELAY = float(os.environ.get("STARTUP_DELAY", "1"))
QUIET = os.environ.get("QUIET", "1") not in ("0", "false", "no")
KEEPALIVE = os.environ.get("KEEPALIVE", "0") in ("1", "true", "yes")

state = {"sick": False}


class Handler(BaseHTTPRequestHandler):
    server_version = "demo-app/1"
    protocol_version = "HTTP/1.1" if KEEPALIVE else "HTTP/1.0"

    def _send(self, status, text):
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/health":
            if state["sick"]:
                self._send(500, "sick %d" % os.getpid())
            else:
                self._send(200, "ok %d" % os.getpid())
        elif url.path == "/slow":
            ms = int(parse_qs(url.query).get("ms", ["1000"])[0])
            time.sleep(ms / 1000.0)
            self._send(200, "slept %d ms in %d" % (ms, os.getpid()))
        elif url.path == "/sick":
            state["sick"] = True
            self._send(200, "sick from now on")
        elif url.path == "/pid":
            self._send(200, str(os.getpid()))
        elif url.path == "/":
            self._send(200, "hello from %d" % os.getpid())
        else:
            self._send(404, "not found")

    def log_message(self, fmt, *args):
        if not QUIET:
            sys.stderr.write("demo-app: %s\n" % (fmt % args))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # Health checkers (HAProxy among them) often reset the connection once they have the
        # status line; that is not worth a traceback.
        if isinstance(sys.exc_info()[1], (ConnectionError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


def main():
    # Die at once on SIGTERM: the default action, stated explicitly in case the parent ignored it.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    sys.stderr.write("demo-app: pid %d starting, listening on :%d in %.1fs\n" % (os.getpid(), PORT, STARTUP_DELAY))
    sys.stderr.flush()
    time.sleep(STARTUP_DELAY)
    if ":" in HOST:  # e.g. HOST=:: (dual stack: IPv4 clients show up in /proc/net/tcp6)
        Server.address_family = socket.AF_INET6
    server = Server((HOST, PORT), Handler)
    sys.stderr.write("demo-app: listening on %s:%d\n" % (HOST, PORT))
    sys.stderr.flush()
    server.serve_forever(poll_interval=0.5)


if __name__ == "__main__":
    main()
