"""A real gRPC health server (grpcio's `grpc_health.v1.health.HealthServicer`) in a process of its
own, switched between SERVING and NOT_SERVING through its stdin.

    server = GRPCHealthServer()                 # h2c on a free 127.0.0.1 port
    server = GRPCHealthServer(tls=(cert, key))  # TLS
    server.set("my.Service", "NOT_SERVING")     # "" is the server as a whole
    server.stop()

The server runs as `python3 -m vigiltest.grpc_health [--tls CERT KEY]`: it prints the port it
bound, then reads `SERVICE STATUS` lines (`-` for the empty service) and answers each with `ok`.
A process of its own keeps grpcio's threads out of the test process, which forks vigil and curl.
"""
import os
import subprocess
import sys

from .paths import PYTHON


class GRPCHealthServer:
    def __init__(self, tls=None):
        args = [PYTHON, "-m", "vigiltest.grpc_health"] + (["--tls", *tls] if tls else [])
        env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline()
        assert line.strip().isdigit(), f"the gRPC health server did not start: {line!r}"
        self.port = int(line)

    def set(self, service, status):
        """Sets SERVICE's status (SERVING, NOT_SERVING, SERVICE_UNKNOWN, UNKNOWN) in the servicer."""
        self.proc.stdin.write(f"{service or '-'} {status}\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline() == "ok\n"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc.stdin.close()
        self.proc.stdout.close()


def serve(tls):
    from concurrent import futures

    import grpc
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    if tls:
        with open(tls[0], "rb") as cert, open(tls[1], "rb") as key:
            credentials = grpc.ssl_server_credentials([(key.read(), cert.read())])
        port = server.add_secure_port("127.0.0.1:0", credentials)
    else:
        port = server.add_insecure_port("127.0.0.1:0")
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    server.start()
    print(port, flush=True)
    for line in sys.stdin:
        service, status = line.split()
        servicer.set("" if service == "-" else service, health_pb2.HealthCheckResponse.ServingStatus.Value(status))
        print("ok", flush=True)
    server.stop(0)


if __name__ == "__main__":
    serve(sys.argv[2:4] if sys.argv[1:2] == ["--tls"] else None)
