#!/usr/bin/env bash
# A throwaway Synapse on 127.0.0.1 for herald's Matrix tests.
#
#   tests/it/support/synapse.sh install              create/reuse the venv, pip install matrix-synapse
#   tests/it/support/synapse.sh start DIR [PARENT]   write DIR/homeserver.yaml (once), start, wait
#                                                 until the client API answers, print its URL;
#                                                 with PARENT (a pid), stop when that process ends
#   tests/it/support/synapse.sh stop DIR             stop the Synapse started in DIR
#
# Rate limits are relaxed so tests run fast, except when DIR/default_rate_limits exists
# when the config is written: then sending messages, joins and invites keep Synapse's
# defaults (rc_message: 0.2/s, burst 10), as a homeserver in production has them.
#
# The venv lives outside the repository: $HERALD_SYNAPSE_VENV, default
# /var/tmp/herald-synapse-venv. Users are registered with the shared secret in
# DIR/shared_secret (the tests use the admin API; by hand: $VENV/bin/register_new_matrix_user
# -c DIR/homeserver.yaml http://127.0.0.1:PORT).
set -euo pipefail

VENV="${HERALD_SYNAPSE_VENV:-/var/tmp/herald-synapse-venv}"
PY="$VENV/bin/python"

install() {
    if [ ! -x "$PY" ]; then
        python3 -m venv "$VENV"
    fi
    if ! "$PY" -c 'import synapse' 2>/dev/null; then
        "$PY" -m pip install --quiet --disable-pip-version-check matrix-synapse
    fi
    "$PY" -c 'import synapse; print("synapse", synapse.__version__)'
}

free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

write_config() {
    local dir="$1" port secret
    port="$(free_port)"
    secret="$("$PY" -c 'import secrets; print(secrets.token_hex(16))')"
    printf '%s' "$secret" >"$dir/shared_secret"
    printf '%s' "$port" >"$dir/port"
    cat >"$dir/log.config" <<EOF
version: 1
formatters:
  precise:
    format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(message)s'
handlers:
  file:
    class: logging.FileHandler
    formatter: precise
    filename: $dir/homeserver.log
root:
  level: WARNING
  handlers: [file]
disable_existing_loggers: false
EOF
    local big='{per_second: 10000, burst_count: 100000}'
    local limits
    if [ -e "$dir/default_rate_limits" ]; then
        limits="rc_registration: $big
rc_login:
  address: $big
  account: $big
  failed_attempts: $big"
    else
        limits="rc_message: $big
rc_registration: $big
rc_registration_token_validity: $big
rc_login:
  address: $big
  account: $big
  failed_attempts: $big
rc_admin_redaction: $big
rc_joins:
  local: $big
  remote: $big
rc_joins_per_room: $big
rc_3pid_validation: $big
rc_invites:
  per_room: $big
  per_user: $big
  per_issuer: $big
rc_key_requests: $big
rc_presence:
  per_user: $big
rc_delayed_event_mgmt: $big
rc_room_creation: $big
rc_reports: $big"
    fi
    cat >"$dir/homeserver.yaml" <<EOF
server_name: "localhost"
public_baseurl: "http://127.0.0.1:$port/"
pid_file: "$dir/homeserver.pid"
listeners:
  - port: $port
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: "$dir/homeserver.db"
log_config: "$dir/log.config"
media_store_path: "$dir/media_store"
signing_key_path: "$dir/localhost.signing.key"
trusted_key_servers: []
suppress_key_server_warning: true
report_stats: false
enable_registration: false
registration_shared_secret: "$secret"
macaroon_secret_key: "$secret-macaroon"
form_secret: "$secret-form"
bcrypt_rounds: 4
presence:
  enabled: false
url_preview_enabled: false
$limits
EOF
}

start() {
    local dir="$1" parent="${2:-}"
    [ -n "$dir" ] || { echo "usage: $0 start DIR [PARENT_PID]" >&2; exit 2; }
    install >/dev/null
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    if [ ! -f "$dir/homeserver.yaml" ]; then
        write_config "$dir"
        "$PY" -m synapse.app.homeserver -c "$dir/homeserver.yaml" --generate-keys >/dev/null
    fi
    local port
    port="$(cat "$dir/port")"
    # setsid: Synapse must not die with the shell that started it (or its terminal).
    setsid "$PY" -m synapse.app.homeserver -c "$dir/homeserver.yaml" \
        >"$dir/stdout.log" 2>&1 </dev/null &
    local pid=$!
    echo "$pid" >"$dir/synapse.pid"
    if [ -n "$parent" ]; then
        # A watchdog: when the test process ends (however it ends), Synapse goes too,
        # and a directory marked .remove_on_exit with it.
        setsid bash -c "while kill -0 $parent 2>/dev/null && kill -0 $pid 2>/dev/null; do sleep 1; done
            if ! kill -0 $parent 2>/dev/null; then
                kill $pid 2>/dev/null; sleep 2; kill -9 $pid 2>/dev/null
                [ -f '$dir/.remove_on_exit' ] && rm -rf '$dir'
            fi" \
            >/dev/null 2>&1 </dev/null &
    fi
    for _ in $(seq 1 600); do
        if curl -fsS "http://127.0.0.1:$port/_matrix/client/versions" >/dev/null 2>&1; then
            echo "http://127.0.0.1:$port"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "synapse exited during start-up; see $dir/stdout.log and $dir/homeserver.log:" >&2
            tail -n 30 "$dir/stdout.log" >&2 || true
            exit 1
        fi
        sleep 0.1
    done
    echo "synapse did not answer on port $port within 60s" >&2
    exit 1
}

stop() {
    local dir="$1" pid
    [ -f "$dir/synapse.pid" ] || return 0
    pid="$(cat "$dir/synapse.pid")"
    if kill "$pid" 2>/dev/null; then
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/synapse.pid"
}

case "${1:-}" in
    install) install ;;
    start) start "${2:-}" "${3:-}" ;;
    stop) stop "${2:?usage: $0 stop DIR}" ;;
    *) echo "usage: $0 install | start DIR [PARENT_PID] | stop DIR" >&2; exit 2 ;;
esac
