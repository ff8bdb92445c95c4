# vigil's port is not EXPOSEd.
FROM debian:bookworm-slim
COPY out/vigil /usr/local/bin/vigil
ENV VIGIL_CHECK_APP=http://127.0.0.1:8080/healthz \
    VIGIL_DRAIN_DELAY=5s
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s CMD ["/usr/local/bin/vigil", "probe", "ready"]
ENTRYPOINT ["/usr/local/bin/vigil", "--"]
CMD ["/app/server", "--port", "8080"]
