# A HEALTHCHECK that asks the app, not vigil: it misses the drain.
FROM debian:bookworm-slim
COPY out/vigil /usr/local/bin/vigil
ENV VIGIL_CHECK_APP=http://127.0.0.1:8080/healthz \
    VIGIL_DRAIN_DELAY=5s
EXPOSE 7979 8080
STOPSIGNAL SIGTERM
HEALTHCHECK CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/vigil", "--"]
CMD ["/app/server", "--port", "8080"]
