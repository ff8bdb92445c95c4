# vigil in CMD only: `docker run IMAGE sh` or Kubernetes args: run without it.
FROM debian:bookworm-slim
COPY out/vigil /usr/local/bin/vigil
ENV VIGIL_CHECK_APP=http://127.0.0.1:8080/healthz \
    VIGIL_DRAIN_DELAY=5s
EXPOSE 7979 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s CMD ["/usr/local/bin/vigil", "probe", "ready"]
CMD ["/usr/local/bin/vigil", "--", "/app/server", "--port", "8080"]
