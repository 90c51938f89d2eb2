# The API image, in two stages on one pinned base. "builder" installs the hash-pinned
# requirements.lock into a virtualenv; "runtime" copies that venv and the app's own files,
# nothing else: no compiler, no pip cache, no tests, no articles. Same base in both stages
# so the venv's interpreter path is valid where it lands.
FROM python:3.11.17-slim-bookworm AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

FROM base AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
COPY requirements.lock /tmp/requirements.lock
# Wheels only (nothing to compile), every file checked against its hash in the lock, and
# installed by the base image's pip so that neither pip nor setuptools lands in the venv.
RUN python -m venv --without-pip /opt/venv \
    && pip --python /opt/venv/bin/python install --no-cache-dir --no-deps --require-hashes \
        --only-binary=:all: -r /tmp/requirements.lock

FROM base AS runtime
RUN groupadd --system --gid 10001 timeline \
    && useradd --system --uid 10001 --gid timeline --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin timeline
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY alembic.ini pyproject.toml ./
COPY app/ app/
COPY migrations/ migrations/
COPY seed/ seed/
COPY docker/entrypoint.sh docker/entrypoint.sh
# Code stays root-owned and read-only for the service; only data/ (the SQLite default's
# folder, for `docker run` without PostgreSQL) is writable. Bytecode is compiled here
# because the running service may not write it.
RUN python -m compileall -q app migrations seed \
    && mkdir data \
    && chown timeline:timeline data
# ARTICLES_DIR: where docs/deploy.md says to mount the articles (the image has none).
ENV DATABASE_URL=sqlite:////app/data/timeline.db \
    ARTICLES_DIR=/app/articles \
    HOST=0.0.0.0 \
    PORT=8000 \
    WORKERS=1
# Numeric, so runtimes that check runAsNonRoot can see it is not root.
USER 10001:10001
EXPOSE 8000
# uvicorn finishes in-flight requests on SIGTERM (up to 20 s): give it
# `stop_grace_period: 30s` (compose) or `docker stop -t 30`.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', timeout=4)"]
ENTRYPOINT ["sh", "docker/entrypoint.sh"]
