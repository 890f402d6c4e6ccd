"""Interleaved trial cost of proxy-28 against proxy-28s (issue 25), one CSV row per trial.

Usage: ``flock /tmp/spectrum-cpu.lock python reports/bench/proxy_cost.py EPOCHS SUBSET REPS G,G``
(SUBSET 0: all 55,000 training images). Each repeat runs, for every g, one ``spectrum train``
trial of each preset at seed 0, the preset that goes first alternating between repeats, so that
other load on the machine falls on both alike. ``wall_s`` is the whole command (start-up, data,
counting, latency, training, evaluation), ``trial_wall_s`` the trial record's own wall time.
"""

import re
import subprocess
import sys
import time

epochs, subset, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
segments = sys.argv[4].split(",")
print("rep,g,preset,wall_s,trial_wall_s,test_acc", flush=True)
for rep in range(reps):
    for g in segments:
        presets = ["proxy-28", "proxy-28s"] if rep % 2 == 0 else ["proxy-28s", "proxy-28"]
        for preset in presets:
            command = ["spectrum", "train", "--preset", preset, "--segments", g]
            command += ["--epochs", epochs, "--seed", "0"]
            if subset != "0":
                command += ["--train-subset", subset]
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True)
            wall = time.perf_counter() - started
            trial = re.search(r"wall_time_s: ([0-9.]+)", done.stdout)
            accuracy = re.search(r"test_acc: ([0-9.]+)", done.stdout)
            if trial is None or accuracy is None:
                sys.exit(f"{preset} g={g} failed: {done.stderr[-300:]}")
            print(f"{rep},{g},{preset},{wall:.1f},{trial.group(1)},{accuracy.group(1)}", flush=True)
