"""How busy the machine is around a benchmark: load averages, and the cores that processes other
than the benchmark (and the hypervisor: steal) kept busy during it.

The one-minute load average also holds work that ended before a run and the run's own work, so
the benchmarks decide "quiet" on :func:`other_load_since`: the machine's CPU time from
``/proc/stat`` minus this process's and its finished children's, over the wall time.
"""

from __future__ import annotations

import math
import os
import resource
from pathlib import Path

QUIET_LOAD = 0.5  # cores' worth of other work at or below which a machine counts as quiet


def load_average() -> tuple[float, float, float]:
    """1, 5 and 15-minute load averages (NaN where the platform has none)."""
    return os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3


def machine_cpu_s() -> float:
    """CPU seconds every process on the machine used since boot, steal included (nan: unknown)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    """CPU seconds of this process and of its children that ended (the workers)."""
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
    )


def cpu_marks() -> tuple[float, float]:
    """The machine's and this process's CPU seconds now, for :func:`other_load_since`."""
    return machine_cpu_s(), own_cpu_s()


def other_load_since(marks: tuple[float, float], wall_s: float) -> float:
    """Mean cores other work kept busy since ``marks`` over ``wall_s`` seconds (nan: unknown)."""
    machine, own = cpu_marks()
    load = (machine - marks[0] - own + marks[1]) / wall_s
    return load if math.isnan(load) else max(0.0, load)
