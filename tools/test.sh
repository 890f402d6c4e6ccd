#!/usr/bin/env bash
# The README's second command, and what CI runs (.ci/run calls this script): installs the test
# dependencies on Debian (Fashion-MNIST, PostgreSQL, Chromium from apt; torch, the package and
# its test and docs extras from pip), starts a loopback-only PostgreSQL with the test role and
# database, then runs the lint, the docs build and the tests. Any step that fails fails the
# whole run (pytest's exit code 5, "no tests collected", included).
set -euo pipefail
cd "$(dirname "$0")/.."

# --- 1. System and Python packages (tools/install.sh). ---------------------------------------
APT_EXTRA="postgresql chromium" EXTRAS="test,docs" tools/install.sh
. tools/env.sh
pick_python
PATH="$(scripts_dir):$PATH"

# --- 2. PostgreSQL on loopback only, with the test role and database. ------------------------
# The Debian package creates one cluster (named main); find its version rather than hard-coding it.
pg_version="$(pg_lsclusters --no-header | awk '$2 == "main" {print $1; exit}')"
if [ -z "$pg_version" ]; then
    pg_version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
    echo "spectrum: creating PostgreSQL $pg_version cluster main"
    as_root pg_createcluster "$pg_version" main
fi
as_root pg_conftool "$pg_version" main set listen_addresses localhost
as_root pg_conftool "$pg_version" main set port 5432
cluster_status() { pg_lsclusters --no-header | awk -v v="$pg_version" '$1 == v && $2 == "main" {print $4}'; }
if [ "$(cluster_status)" = online ]; then
    # Already running (the package's postinst may have started it): restart to apply the config.
    as_root pg_ctlcluster "$pg_version" main restart
else
    as_root pg_ctlcluster "$pg_version" main start
fi
for _ in $(seq 1 60); do
    if pg_isready -q -h 127.0.0.1 -p 5432; then break; fi
    sleep 1
done
pg_isready -h 127.0.0.1 -p 5432

# Idempotent: the role's password is (re)set, the database is created only if it is missing.
as_postgres() {
    if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else (cd / && sudo -u postgres "$@"); fi
}
as_postgres psql -q -v ON_ERROR_STOP=1 -d postgres <<'SQL'
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'spectrum') THEN
        CREATE ROLE spectrum LOGIN PASSWORD 'spectrum';
    ELSE
        ALTER ROLE spectrum LOGIN PASSWORD 'spectrum';
    END IF;
END
$$;
SQL
db_exists="$(as_postgres psql -tAq -d postgres \
    -c "SELECT 1 FROM pg_database WHERE datname = 'spectrum_test'")"
if [ "$db_exists" != 1 ]; then
    as_postgres createdb -O spectrum spectrum_test
fi
export SPECTRUM_TEST_POSTGRES_URL="postgresql://spectrum:spectrum@127.0.0.1:5432/spectrum_test"
echo "spectrum: PostgreSQL $pg_version ready on 127.0.0.1:5432"

# --- 3. Lint: one formatter and linter for the whole tree (configured in pyproject.toml). ----
echo "spectrum: ruff check, ruff format --check"
"$PY" -m ruff check .
"$PY" -m ruff format --check .

# --- 4. The docs site builds without a warning (a broken link or reference fails it). -------
echo "spectrum: mkdocs build --strict"
site="$(mktemp -d)"
NO_MKDOCS_2_WARNING=1 "$PY" -m mkdocs build --strict --quiet --site-dir "$site"
rm -rf "$site"

# --- 5. Tests. -------------------------------------------------------------------------------
# Every test not marked slow; then the numeric ones again as on the other machine kind: `auto`
# resolving to float32 (no native bf16) and torch's and oneDNN's AVX2 kernels instead of AVX-512
# (both no-ops on a CPU without AVX-512, where this repeats the first run's numeric tests).
echo "spectrum: python -m pytest -q"
"$PY" -m pytest -q
other_kind=(SPECTRUM_DISABLE_BF16=1 ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2)
echo "spectrum: ${other_kind[*]} python -m pytest -q -m 'numeric and not slow'"
env "${other_kind[@]}" "$PY" -m pytest -q -m "numeric and not slow"
