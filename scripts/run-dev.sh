#!/usr/bin/env bash
# `make run`: migrate the SQLite database, load the demo organisation on first run, then
# serve the web app, run the background worker and the SIP redirect server for virtual numbers
# (UDP, SIP_PORT) until Ctrl-C.
set -euo pipefail
export DEBUG="${DEBUG:-1}"
export PORT="${PORT:-8000}"
export SIP_PORT="${SIP_PORT:-5060}"
BIN=.venv/bin

$BIN/minyi migrate --no-input
$BIN/minyi demo   # idempotent: creates the organisation and demo tickets only once

$BIN/minyi run_huey --workers 2 --flush-locks &
WORKER=$!
$BIN/minyi sip --host 127.0.0.1 --port "${SIP_PORT}" &
SIP=$!
trap 'kill $WORKER $SIP 2>/dev/null || true' EXIT INT TERM

echo
echo "Minyi is running on http://127.0.0.1:${PORT}/  (citizen portal)"
echo "  staff console:  http://127.0.0.1:${PORT}/console/"
echo "  API docs:       http://127.0.0.1:${PORT}/api/v1/docs"
echo "  admin:          http://127.0.0.1:${PORT}/admin/"
echo "  SIP redirect:   udp 127.0.0.1:${SIP_PORT}  (virtual numbers)"
echo
$BIN/minyi runserver "127.0.0.1:${PORT}"
