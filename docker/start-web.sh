#!/bin/sh
# The web container's start: schema and static files first, so gunicorn never serves
# against a half-migrated database or stale assets (the static root is on a volume).
set -eu

python manage.py migrate --noinput
python manage.py collectstatic --noinput --verbosity 0
if [ "${DBDECK_DEMO:-0}" = "1" ]; then
    # Opt-in: demo team, an admin whose password is printed once, and the demo SQLite shop.
    python manage.py bootstrap_demo
fi

# /dev/shm for worker heartbeats: a container's overlay /tmp can stall them. No control
# socket: its default place under $HOME is not writable for the app user, and nothing uses it.
exec gunicorn config.wsgi:application \
    --bind 0.0.0.0:8000 \
    --threads "${GUNICORN_THREADS:-4}" \
    --timeout "${GUNICORN_TIMEOUT:-120}" \
    --worker-tmp-dir /dev/shm \
    --no-control-socket \
    --access-logfile -
