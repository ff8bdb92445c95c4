"""An HTTP/1.1 app for the front-door tests: keep-alive, bodies both ways, WebSocket echo, and
misbehaviour on request. Every request head it receives is appended to $REQUEST_LOG, so a test
can assert what reached the app (and what never did).

    python3 door_app.py PORT

  GET  /headers            the request's headers as JSON
  POST /upload             reads the body (Content-Length or chunked): "<bytes> <sha256>"
  GET  /download?mb=N      N MiB of "x" (Content-Length; &chunked=1 for chunked)
  GET  /slow?ms=N          answers after N ms
  GET  /ws                 WebSocket echo (text and binary frames, close)
  GET  /close              closes the connection without answering
  GET  /hang               never answers
"""
import base64
import hashlib
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOG = os.environ.get("REQUEST_LOG")
MIB = 1024 * 1024


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _record(self):
        if LOG:
            with open(LOG, "a") as f:
                f.write(json.dumps({"method": self.command, "path": self.path, "headers": dict(self.headers)}) + "\n")

    def _send(self, status, body, content_type="text/plain"):
        body = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return
                remaining = size
                while remaining:
                    chunk = self.rfile.read(min(remaining, MIB))
                    remaining -= len(chunk)
                    yield chunk
                self.rfile.readline()
        remaining = int(self.headers.get("Content-Length") or 0)
        while remaining:
            chunk = self.rfile.read(min(remaining, MIB))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk

    def do_POST(self):
        self._record()
        digest, total = hashlib.sha256(), 0
        for chunk in self._body():
            digest.update(chunk)
            total += len(chunk)
        self._send(200, f"{total} {digest.hexdigest()}")

    def do_GET(self):
        self._record()
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path == "/headers":
            self._send(200, json.dumps(dict(self.headers)), "application/json")
        elif url.path == "/download":
            self._download(int(query.get("mb", ["1"])[0]), query.get("chunked") == ["1"])
        elif url.path == "/slow":
            time.sleep(int(query.get("ms", ["1000"])[0]) / 1000)
            self._send(200, "slow done")
        elif url.path == "/ws":
            self._websocket()
        elif url.path == "/close":
            self.close_connection = True
        elif url.path == "/hang":
            time.sleep(3600)
        else:
            self._send(200, "hello")

    def _download(self, mb, chunked):
        block = b"x" * MIB
        self.send_response(200)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(mb * MIB))
        self.end_headers()
        for _ in range(mb):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def _websocket(self):
        key = self.headers["Sec-WebSocket-Key"]
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept.decode())
        self.end_headers()
        self.wfile.flush()
        while True:
            header = self.rfile.read(2)
            if len(header) < 2:
                return
            opcode, length = header[0] & 0x0F, header[1] & 0x7F
            if length == 126:
                length = int.from_bytes(self.rfile.read(2), "big")
            elif length == 127:
                length = int.from_bytes(self.rfile.read(8), "big")
            mask = self.rfile.read(4) if header[1] & 0x80 else b"\0\0\0\0"
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self.rfile.read(length)))
            self.wfile.write(bytes([0x80 | opcode]) + frame_length(len(payload)) + payload)
            self.wfile.flush()
            if opcode == 8:
                self.close_connection = True
                return


def frame_length(n):
    if n < 126:
        return bytes([n])
    if n < 65536:
        return bytes([126]) + n.to_bytes(2, "big")
    return bytes([127]) + n.to_bytes(8, "big")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


if __name__ == "__main__":
    Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
