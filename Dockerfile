# Stint's production image: multi-stage, slim, non-root, with a health check.
#   docker build -t stint .
#   docker run -e STINT_DATABASE_URL=postgres://… -e STINT_REDIS_URL=redis://… -p 8000:8000 stint
# The same image runs every role: `stint serve`, `stint worker`, `stint beat`, `stint db upgrade`
# (compose.yaml, docs/deploy.md).

# --- build: wheels for Stint and its dependencies (compilers stay in this stage) --------------
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY core ./core
COPY plugins ./plugins
COPY web ./web
COPY admin ./admin
COPY server ./server
# The stint-tracker console script of the same install (a terminal app; harmless in the image).
COPY tracker ./tracker
RUN python -m venv /opt/stint \
 && /opt/stint/bin/pip install --upgrade pip \
 && /opt/stint/bin/pip install .

# --- run: the virtualenv only, as an unprivileged user -----------------------------------------
FROM python:3.11-slim AS run
ENV PATH=/opt/stint/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    STINT_DATA_DIR=/var/lib/stint
RUN groupadd --system stint && useradd --system --gid stint --home-dir /var/lib/stint stint \
 && mkdir -p /var/lib/stint && chown stint:stint /var/lib/stint
COPY --from=build /opt/stint /opt/stint
USER stint
WORKDIR /var/lib/stint
EXPOSE 8000
# Liveness only: readiness (/health/ready) is the balancer's question, not a reason to restart.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=2).status != 200)"]
# SIGTERM drains: in-flight requests finish, event streams end (docs/deploy.md).
STOPSIGNAL SIGTERM
CMD ["stint", "serve", "--host", "0.0.0.0", "--port", "8000"]
