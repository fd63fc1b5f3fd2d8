# dbdeck: one image for web (gunicorn), worker and beat (Celery). See docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DBDECK_VAR_DIR=/var/lib/dbdeck

# Backup and restore runners call the engines' own clients (pg_dump, psql, mariadb-dump, mariadb).
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client mariadb-client \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies from pyproject.toml alone, in their own layer, so a code change does not
# reinstall them. With no packages copied yet the project itself installs empty: the code
# runs from /app (PYTHONPATH), where templates/ and static/ sit beside it as settings expect.
COPY pyproject.toml README.md /tmp/deps/
RUN pip install /tmp/deps && rm -rf /tmp/deps

# A fixed uid so the named volume's ownership survives image rebuilds.
RUN useradd --system --user-group --uid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin dbdeck \
    && mkdir -p "$DBDECK_VAR_DIR" \
    && chown dbdeck:dbdeck "$DBDECK_VAR_DIR" \
    && chmod 0700 "$DBDECK_VAR_DIR"

# Owned by root and not writable by the app user: the running app cannot rewrite its own code.
COPY . /app

USER dbdeck
EXPOSE 8000

CMD ["sh", "/app/docker/start-web.sh"]
