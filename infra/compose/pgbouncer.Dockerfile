# PgBouncer from Debian (as the issue suggests), so the local stack needs no extra registry.
FROM debian:bookworm-slim
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends pgbouncer \
 && rm -rf /var/lib/apt/lists/*
# The Debian package creates the postgres user (its uid is assigned at install time).
# hadolint ignore=DL3066
USER postgres
EXPOSE 6432
HEALTHCHECK --interval=10s --timeout=3s CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/6432"]
CMD ["pgbouncer", "/etc/pgbouncer/pgbouncer.ini"]
