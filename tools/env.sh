# Sourced by tools/install.sh, quickstart.sh and test.sh: the shared settings of the two
# commands. Picks the Python they install into and run (PY) and how to run a command as root.
#
# PY: $PYTHON if set; else the active virtualenv's python; else python3 (or python), unless that
# is a system Python that pip must not change (Debian's, PEP 668 "externally managed"): then a
# virtualenv in .venv is made (once) and used.

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root apt-get install -y -qq "$@" >/dev/null
}

pick_python() {
    if [ -n "${PYTHON:-}" ]; then PY="$PYTHON"; return; fi
    if [ -n "${VIRTUAL_ENV:-}" ]; then PY="$VIRTUAL_ENV/bin/python"; return; fi
    PY="$(command -v python3 || command -v python || true)"
    if [ -z "$PY" ]; then
        apt_install python3 python3-venv
        PY="$(command -v python3)"
    fi
    if "$PY" -c 'import os, sys, sysconfig
sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")) else 1)'; then
        if [ ! -x .venv/bin/python ]; then
            echo "spectrum: $PY is the system's Python (externally managed); installing into .venv"
            "$PY" -m venv .venv 2>/dev/null || { apt_install python3-venv && "$PY" -m venv .venv; }
        fi
        PY="$PWD/.venv/bin/python"
    fi
}

# The directory pip puts the `spectrum` command in, for PY.
scripts_dir() {
    "$PY" -c 'import sysconfig; print(sysconfig.get_path("scripts"))'
}

export PIP_NO_INPUT=1 PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
