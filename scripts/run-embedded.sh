#!/usr/bin/env bash
# `make run`: migrate, bootstrap the demo, then serve the app with a Celery worker
# and beat on the filesystem broker. Ctrl-C stops all three, says so in one line, exits 0.
#
#   DBDECK_HOST, DBDECK_PORT   where to listen (127.0.0.1, 8000)
#   DBDECK_VAR_DIR             every runtime file: metadata DB, keys, broker folders, beat schedule,
#                              pid files in run/, the services' logs in log/ (./var)
#   DBDECK_PYTHON              the interpreter (.venv/bin/python)
#   DBDECK_LOG_LEVEL           DEBUG, INFO, WARNING or ERROR for the services' logs (INFO)
#   DBDECK_WEB_WORKERS         gunicorn processes (2 x CPUs + 1)
#   DBDECK_WEB_THREADS         threads per gunicorn process (1: a page waits in the kernel's queue, not
#                              for the GIL; raise it for many long downloads at once)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${DBDECK_PYTHON:-.venv/bin/python}"
HOST="${DBDECK_HOST:-127.0.0.1}"
PORT="${DBDECK_PORT:-8000}"
LEVEL="${DBDECK_LOG_LEVEL:-INFO}"
WORKERS="${DBDECK_WEB_WORKERS:-$(($(nproc) * 2 + 1))}"
THREADS="${DBDECK_WEB_THREADS:-1}"
export DBDECK_VAR_DIR="${DBDECK_VAR_DIR:-$PWD/var}"
RUN="$DBDECK_VAR_DIR/run"
LOG="$DBDECK_VAR_DIR/log"
mkdir -p "$RUN" "$LOG"

# The setup steps talk to the terminal: their INFO chatter (app banners) is left out, warnings are not.
DJANGO_LOG_LEVEL="${LEVEL/INFO/WARNING}" "$PY" manage.py migrate --noinput
DJANGO_LOG_LEVEL="${LEVEL/INFO/WARNING}" "$PY" manage.py bootstrap_demo
export DJANGO_LOG_LEVEL="$LEVEL"

names=()
pids=()
start() {  # name command...: in its own session, so the terminal's Ctrl-C reaches only this script
  local name=$1
  shift
  names+=("$name")
  setsid "$@" >>"$LOG/$name.log" 2>&1 </dev/null &
  pids+=($!)
}

finish() {  # status: stop the services (SIGTERM, SIGKILL for what is left after 15 s), report, exit
  trap '' INT TERM
  local pid alive tries=0
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  while [ "$tries" -lt 150 ]; do
    alive=0
    for pid in "${pids[@]}"; do if kill -0 "$pid" 2>/dev/null; then alive=1; fi; done
    if [ "$alive" = 0 ]; then break; fi
    sleep 0.1
    tries=$((tries + 1))
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done  # its whole process group
  wait "${pids[@]}" 2>/dev/null || true
  if [ "$1" = 0 ]; then echo "dbdeck: stopped."; fi
  exit "$1"
}
trap 'finish 0' INT TERM

start worker "$PY" -m celery -A config worker -Q celery,backups,monitoring --loglevel="$LEVEL" --concurrency=2 --without-gossip --without-mingle \
  --pidfile="$RUN/worker.pid"
# The query console's sessions: each holds a database session for its transaction and open cursor,
# so they live in one place every web process reaches (threads: one per open session).
start console "$PY" -m celery -A config worker -Q console --pool threads --concurrency 16 --loglevel="$LEVEL" \
  --without-gossip --without-mingle --hostname "console@%h" --pidfile="$RUN/console.pid"
start beat "$PY" -m celery -A config beat --loglevel="$LEVEL" --pidfile="$RUN/beat.pid"
start web "$PY" -m gunicorn config.wsgi:application --bind "$HOST:$PORT" --workers "$WORKERS" --threads "$THREADS" --timeout 120 \
  --graceful-timeout 10 --pid "$RUN/web.pid" --no-control-socket --log-level "${LEVEL,,}" --access-logfile -
echo "dbdeck: http://$HOST:$PORT/  (Ctrl-C stops the web server, worker and beat; their logs: $LOG/)"

# Returns when a service ends by itself; Ctrl-C and SIGTERM go to the trap above instead.
ended=""
wait -n -p ended "${pids[@]}" || true
for i in "${!pids[@]}"; do
  if [ "${pids[$i]}" = "$ended" ]; then
    echo "dbdeck: the ${names[$i]} stopped unexpectedly; the end of $LOG/${names[$i]}.log:" >&2
    tail -n 20 "$LOG/${names[$i]}.log" >&2
  fi
done
echo "dbdeck: stopping the other services." >&2
finish 1
