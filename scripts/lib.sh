# Shared by scripts/*: the build cache, and starting the database servers the tests need.
# shellcheck shell=bash

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/libris-target}"
export LIBRIS_TOOLS="${LIBRIS_TOOLS:-$HOME/.cache/libris-tools}"
export PATH="$LIBRIS_TOOLS/bin:$PATH"

log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Waits up to 30 s for a TCP port on loopback.
wait_for_port() {
  local port=$1 name=$2
  for _ in $(seq 1 60); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.5
  done
  die "$name is not listening on 127.0.0.1:$port"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# PostgreSQL and MariaDB come with the machine; start them if something stopped them.
ensure_databases() {
  if ! port_open 5432 && command -v pg_ctlcluster >/dev/null; then
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  if ! port_open 3306 && [ -x /usr/sbin/mariadbd ]; then
    log "starting MariaDB"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
  fi
  wait_for_port 5432 PostgreSQL
  wait_for_port 3306 MariaDB
}

# sea-orm-cli, built once per machine into the tools cache (only its `migrate` front end is needed).
ensure_sea_orm_cli() {
  if ! "$LIBRIS_TOOLS/bin/sea-orm-cli" --version 2>/dev/null | grep -q '2\.0\.4'; then
    log "installing sea-orm-cli 2.0.4 (once per machine)"
    cargo install sea-orm-cli@2.0.4 --locked --no-default-features --features cli,codegen,runtime-tokio-rustls,sqlx-postgres --root "$LIBRIS_TOOLS"
  fi
}

# A Python virtualenv for the project's Python-based checks, rebuilt when its pins change.
PY_VENV="${XDG_CACHE_HOME:-$HOME/.cache}/libris/py-venv"
PY_REQUIREMENTS=(openapi-spec-validator==0.9.0 "moto[server]==5.2.5")
ensure_py_venv() {
  local stamp="$PY_VENV/.requirements" want="${PY_REQUIREMENTS[*]}"
  if [ ! -x "$PY_VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "preparing the Python tools venv ($want)"
    rm -rf "$PY_VENV"
    python3 -m venv "$PY_VENV"
    "$PY_VENV/bin/pip" install --quiet --disable-pip-version-check "${PY_REQUIREMENTS[@]}"
    echo "$want" >"$stamp"
  fi
}

# The credential-rotation tests need PostgreSQL to check their roles' passwords (the machine trusts every
# loopback login otherwise): a scram-sha-256 line for those roles ahead of the trust lines.
ensure_rotation_auth() {
  local hba line="host all libris_rotation,libris_rotation_cut 127.0.0.1/32 scram-sha-256"
  hba=$(psql "${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}" -Atc 'SHOW hba_file')
  if ! grep -qxF "$line" "$hba"; then
    log "adding a password rule for the rotation test roles to $hba"
    sed -i "1i $line" "$hba"
    psql "${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}" -qc 'SELECT pg_reload_conf()' >/dev/null
  fi
}

# cargo-deny, built once per machine into the tools cache.
ensure_cargo_deny() {
  if ! "$LIBRIS_TOOLS/bin/cargo-deny" --version 2>/dev/null | grep -q '0\.18\.9'; then
    log "installing cargo-deny 0.18.9 (once per machine)"
    cargo install cargo-deny@0.18.9 --locked --root "$LIBRIS_TOOLS"
  fi
}
