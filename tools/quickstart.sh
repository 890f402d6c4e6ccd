#!/usr/bin/env bash
# The README's first command: install everything (tools/install.sh), then train the quickstart
# sweep (g = 1, 4, 32, C on Fashion-MNIST, one seed, 4 epochs) into runs/quickstart and write its
# report there. Extra arguments go to `spectrum sweep` (e.g. --jobs 1). Re-running resumes.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install.sh
. tools/env.sh
pick_python
"$(scripts_dir)/spectrum" sweep --segments 1,4,32,C --out runs/quickstart "$@"
if [ "$PY" = "$PWD/.venv/bin/python" ]; then
    echo "spectrum: installed in .venv; run 'source .venv/bin/activate' to use the spectrum command"
fi
