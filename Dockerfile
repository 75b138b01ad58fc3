# syntax=docker/dockerfile:1
# Multi-stage: build the web app with node, build wheels with a compiler, run on a slim image
# with only runtime packages.

# The web app (web/: TypeScript + React, Vite). Vite writes it to
# ../src/everything_app/webapp/static, the package directory `serve` serves at /.
FROM node:20-slim AS web
WORKDIR /build/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web ./
# A gzip copy beside each text asset, as scripts/build-web.sh makes (served when accepted).
RUN npm run build \
    && find /build/src/everything_app/webapp/static/assets -type f \
       \( -name '*.js' -o -name '*.css' -o -name '*.svg' -o -name '*.json' \) \
       -exec gzip -9 --keep --force {} +

FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml requirements.lock README.md ./
COPY src ./src
# The built web app, inside the package before it is installed (pyproject package-data).
COPY --from=web /build/src/everything_app/webapp/static ./src/everything_app/webapp/static
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --upgrade pip \
    && /opt/venv/bin/pip install --no-cache-dir -c requirements.lock .

FROM python:3.11-slim AS runtime
# postgresql-client: pg_dump/pg_restore for `everything-app backup|restore` on PostgreSQL.
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --create-home app
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=8000
USER app
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status == 200 else 1)"]
CMD ["everything-app", "serve"]
