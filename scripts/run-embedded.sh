#!/usr/bin/env bash
# `make run`: migrate, bootstrap the demo, then serve the app with a Celery worker
# and beat on the filesystem broker. Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
HOST="${DBDECK_HOST:-127.0.0.1}"
PORT="${DBDECK_PORT:-8000}"

"$PY" manage.py migrate --noinput
"$PY" manage.py bootstrap_demo

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

"$PY" -m celery -A config worker --loglevel=INFO --concurrency=2 --without-gossip --without-mingle &
pids+=($!)
"$PY" -m celery -A config beat --loglevel=INFO &
pids+=($!)
echo "dbdeck: http://$HOST:$PORT/  (Ctrl-C stops the web server, worker and beat)"
"$PY" -m gunicorn config.wsgi:application --bind "$HOST:$PORT" --workers 2 --threads 4 --timeout 120 \
  --access-logfile - &
pids+=($!)
wait -n "${pids[@]}"
