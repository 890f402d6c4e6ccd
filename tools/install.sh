#!/usr/bin/env bash
# Installs what spectrum needs on Debian (or Ubuntu): the Fashion-MNIST data set from apt, a CPU
# build of PyTorch, and the package (editable) with the extras named in $EXTRAS (e.g.
# EXTRAS=test,docs). Safe to re-run: it re-installs what is present. Run from the repository
# root; see tools/env.sh for which Python it installs into.
#
# TORCH_INDEX=https://download.pytorch.org/whl/cpu takes torch from PyTorch's CPU-only index (the
# default index may resolve torch==2.13.0 to a multi-GB CUDA build).
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/env.sh

echo "spectrum: apt-get install dataset-fashion-mnist ${APT_EXTRA:-}"
# shellcheck disable=SC2086  # APT_EXTRA is a list of package names
apt_install dataset-fashion-mnist ${APT_EXTRA:-}
pick_python
echo "spectrum: pip install torch==2.13.0 and the package into $("$PY" -c 'import sys; print(sys.prefix)')"
"$PY" -m pip install -q torch==2.13.0 ${TORCH_INDEX:+--index-url "$TORCH_INDEX"}
"$PY" -m pip install -q -e ".${EXTRAS:+[$EXTRAS]}"
echo "spectrum: installed; the command is $(scripts_dir)/spectrum"
