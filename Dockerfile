# syntax=docker/dockerfile:1
# ticker's image. Build:  docker build -t ticker .
# Run:    docker run --rm --init -p 8080:8080 ticker        # quote board on http://127.0.0.1:8080/
# Config: mount a directory holding ticker.toml at /etc/ticker (or set TICKER_CONFIG);
#         any key can also be set from the environment (TICKER_SERVER__PORT=9000, ...).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: install ticker and its runtime dependencies (wheels only) into a venv
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/ticker
WORKDIR /src
COPY pyproject.toml README.md ./
COPY ticker ./ticker
COPY feeds ./feeds
# `.` and not `.[dev]`: the image carries the runtime dependencies only.
RUN /opt/ticker/bin/pip install --no-cache-dir . \
    && /opt/ticker/bin/pip uninstall --yes pip

# ---- runtime: the venv, a default config and an unprivileged user; no compiler, no pip
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="ticker" \
      org.opencontainers.image.description="Live market quotes pushed to dashboards over WebSocket" \
      org.opencontainers.image.licenses="MIT"
RUN groupadd --system --gid 10001 ticker \
    && useradd --system --uid 10001 --gid ticker --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin ticker
COPY --from=build /opt/ticker /opt/ticker
COPY config/default.toml /etc/ticker/ticker.toml
# Market hours need the zone database (zoneinfo): bookworm's slim image carries Debian's
# tzdata; a base without it fails the build here rather than the service at start.
RUN ["/opt/ticker/bin/python", "-c", "import zoneinfo; zoneinfo.ZoneInfo('America/New_York'); zoneinfo.ZoneInfo('UTC')"]
# Listening on all interfaces is what a container needs (the default config says 127.0.0.1).
ENV PATH=/opt/ticker/bin:$PATH \
    TICKER_CONFIG=/etc/ticker/ticker.toml \
    TICKER_SERVER__HOST=0.0.0.0 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
EXPOSE 8080
# The probe follows TICKER_SERVER__PORT, the way to change the port in a container.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('TICKER_SERVER__PORT', '8080'), timeout=2)"]
# Exec form: ticker itself is PID 1 and receives SIGTERM; it handles SIGTERM and SIGINT
# (close clients with 1001, stop feeds, exit 0). It starts no child processes, so nothing
# needs reaping; `docker run --init` / compose `init: true` add tini all the same.
STOPSIGNAL SIGTERM
ENTRYPOINT ["ticker"]
CMD ["serve"]
