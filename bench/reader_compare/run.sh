#!/usr/bin/env bash
# Side-by-side CPU per poll: herald's CLI against reader 3.27, on the same loopback feeds.
#   bench/reader_compare/run.sh [--feeds 1000] [--runs 3] [--json FILE]
# HERALD=path/to/herald uses that binary (default: builds and uses target/release/herald).
# VENV=dir puts reader's virtualenv there (default: bench/reader_compare/.venv).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${VENV:-$here/.venv}"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import reader' 2>/dev/null; then
    # reader 3.27 needs Python >= 3.12.
    py=""
    for cand in python3.13 python3.12 "$(pyenv root 2>/dev/null)/versions/3.13.0/bin/python3" python3; do
        if command -v "$cand" >/dev/null 2>&1 &&
            "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            py="$cand"
            break
        fi
    done
    [[ -n "$py" ]] || { echo "need Python >= 3.12 for reader 3.27" >&2; exit 1; }
    "$py" -m venv "$venv"
    "$venv/bin/pip" install -q 'reader==3.27'
fi
if [[ -z "${HERALD:-}" ]]; then
    (cd "$root" && cargo build --release --bin herald)
    HERALD="${CARGO_TARGET_DIR:-$root/target}/release/herald"
fi
exec "$venv/bin/python" "$here/compare.py" --herald "$HERALD" "$@"
