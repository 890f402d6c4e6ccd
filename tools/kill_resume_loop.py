"""Kill a packed sweep with SIGKILL mid-run, resume it, and count the resumes that crash.

Each cycle starts ``spectrum sweep`` (2 one-thread workers on a small synthetic grid) in a new
folder, kills the parent with SIGKILL after a random 4-14 s (its workers die with it), then runs
the same command again to the end. A cycle counts as a crash when the resume exits non-zero,
prints a traceback or "workers failed", or leaves a grid point without a result.

    python tools/kill_resume_loop.py --cycles 50            # the issue's check (about 40 min)
    python tools/kill_resume_loop.py --cycles 8 --keep DIR  # keep each cycle's folder

Prints one line per cycle and a final count; exits 1 when any cycle crashed.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SWEEP = [
    "sweep", "--dataset", "synthetic", "--segments", "1,2,4,C", "--epochs", "2", "--seeds", "2",
    "--jobs", "2", "--precision", "float32",
]  # fmt: skip
GRID_POINTS = 8


def command(out: Path) -> list[str]:
    return [sys.executable, str(ROOT / "cli.py"), *SWEEP, "--out", str(out)]


def results(out: Path) -> int:
    """Grid points with a finished result (complete) in the study's SQLite file."""
    with sqlite3.connect(out / "study.db") as db:
        return db.execute("SELECT COUNT(*) FROM trials WHERE state = 'COMPLETE'").fetchone()[0]


def cycle(out: Path, rng: random.Random) -> tuple[bool, str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = subprocess.Popen(
        command(out), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    delay = rng.uniform(4.0, 14.0)
    time.sleep(delay)
    first.send_signal(signal.SIGKILL)
    first.wait()
    time.sleep(0.5)  # the workers die with their parent (PR_SET_PDEATHSIG)
    resumed = subprocess.run(
        command(out), cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    text = resumed.stdout + resumed.stderr
    crashed = (
        resumed.returncode != 0
        or "Traceback" in text
        or "workers failed" in text
        or results(out) != GRID_POINTS
    )
    detail = f"killed at {delay:.1f} s, resume exit {resumed.returncode}"
    if crashed:
        detail += ": " + " | ".join(text.strip().splitlines()[-3:])
    return crashed, detail


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None, help="keep each cycle's folder here")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    base = args.keep or Path(tempfile.mkdtemp(prefix="kill-resume-"))
    crashes = 0
    for number in range(1, args.cycles + 1):
        crashed, detail = cycle(base / f"cycle-{number:03d}", rng)
        crashes += crashed
        print(f"cycle {number}: {'CRASH' if crashed else 'ok'} ({detail})", flush=True)
    print(f"{crashes} crashes in {args.cycles} cycles", flush=True)
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
