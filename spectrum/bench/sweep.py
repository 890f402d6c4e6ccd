"""``spectrum bench sweep``: trials per hour of one small real sweep, sequential and packed.

This module owns the measurement: the interleaved runner (:func:`bench_sweep`) of the settings
(:class:`~spectrum.bench.settings.SweepBenchSettings`, the command's options) and its records
(:class:`SweepRun`, :class:`SweepBench`). The CSV and the markdown report are
:mod:`spectrum.bench.sweep_report`; it never prints.

Both modes run the same grid exactly as ``spectrum sweep --jobs N`` runs it, through
:mod:`spectrum.study.workers` (no packing of its own): the parent creates the study and queues
the grid (:meth:`spectrum.study.run.StudyRun.prepare`), then starts worker processes
(:func:`~spectrum.study.workers.start_workers`), each ``spectrum sweep ... --jobs 1`` with an
argument list built here, all on one SQLite file in a fresh temporary directory.

* **sequential**: one worker with :func:`~spectrum.study.workers.worker_threads` (1) threads,
  i.e. every core (what ``--jobs 1`` trains with);
* **packed**: ``--jobs`` workers (``auto``: one per core, as
  :func:`~spectrum.study.workers.resolve_jobs` decides) with ``cores / N`` threads each.

A run is timed from creating its study to the exit of its last worker (process start-up, data
loading, training, evaluation and latency measurement of every trial, as in a real sweep). The
runs alternate, sequential then packed, ``repeats`` times (S P S P ...), so that drifting load
falls on both alike. Trials per hour of a mode is the median over its runs; the ratio is packed
over sequential of those medians, with the per-repeat ratios beside it.

Load: the 1-minute load average before and after each run and of the whole benchmark; since a
run's own workers raise the load average for minutes, each run also records ``other_load``, the
mean number of cores that processes other than this benchmark (and the hypervisor: steal) kept
busy during it, from ``/proc/stat`` minus this process's and its workers' CPU time. A benchmark
that did not start quiet (load average above
:data:`~spectrum.bench.machine_load.QUIET_LOAD`) or ran beside other work is
flagged (:meth:`SweepBench.warnings`); the measuring is :mod:`spectrum.bench.machine_load`.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import optuna
import torch

from ..data import load_dataset
from ..device import (
    cpu_name,
    device_label,
    device_name,
    threading_env,
    usable_cores,
)
from ..errors import SpecError, SpectrumError
from ..records import is_finished
from ..study import workers
from ..study.run import StudyRun
from ..study.storage import open_storage
from ..study.sweep import SweepPlan
from .machine_load import QUIET_LOAD, cpu_marks, load_average, other_load_since
from .settings import SweepBenchSettings

POLL_S = 1.0


@dataclass(frozen=True)
class SweepRun:
    """One timed run of the grid in one mode."""

    repeat: int  # 1-based
    mode: str  # sequential | packed
    jobs: int  # worker processes
    threads: int  # CPU threads of each worker
    grid_points: int
    trials: int  # distinct grid points finished
    trained: int  # finished trials (a point trained twice would count twice)
    complete: int  # finished trials with status complete
    precision: str  # what the trials trained in, from their records (bfloat16, float32)
    trial_threads: tuple[int, ...]  # the thread counts the trials' records name (CPU)
    trial_s_mean: float  # mean wall time of a trial, from the records
    wall_s: float
    load_before: float  # 1-minute load average
    load_after: float
    other_load: float  # mean cores busy with other work during the run (nan: unknown)

    @property
    def trials_per_hour(self) -> float:
        return self.trials * 3600.0 / self.wall_s

    @property
    def busy(self) -> bool:
        return self.other_load > QUIET_LOAD  # False for nan


@dataclass(frozen=True)
class SweepBench:
    """Every run of a benchmark and what describes the machine it ran on."""

    settings: SweepBenchSettings
    runs: tuple[SweepRun, ...]
    device: str  # device_name
    label: str  # the file name part: cpu, cpu-1t, cuda0
    cores: int
    cpu: str
    env: dict[str, str]
    dataset: str
    source: str
    train_images: int  # per epoch of a trial
    load_start: tuple[float, ...]  # 1/5/15-minute load averages
    load_end: tuple[float, ...]
    date: str
    torch: str
    command: str = ""

    def mode_runs(self, mode: str) -> list[SweepRun]:
        return [run for run in self.runs if run.mode == mode]

    def trials_per_hour(self, mode: str) -> float:
        """The median over this mode's runs."""
        return statistics.median(run.trials_per_hour for run in self.mode_runs(mode))

    @property
    def ratio(self) -> float:
        """Packed over sequential trials per hour (the medians)."""
        return self.trials_per_hour("packed") / self.trials_per_hour("sequential")

    @property
    def repeat_ratios(self) -> list[float]:
        pairs = zip(self.mode_runs("sequential"), self.mode_runs("packed"))
        return [packed.trials_per_hour / sequential.trials_per_hour for sequential, packed in pairs]

    def warnings(self) -> list[str]:
        """Why these numbers may not be those of a quiet machine (empty when it was quiet)."""
        found = []
        if self.load_start[0] > QUIET_LOAD:
            found.append(
                f"the machine was not quiet: load average {self.load_start[0]:.2f} before "
                f"starting (quiet: <= {QUIET_LOAD})"
            )
        busy = [run for run in self.runs if run.busy]
        if busy:
            found.append(
                "other processes kept "
                + ", ".join(f"{run.other_load:.2f}" for run in busy)
                + " cores busy during "
                + ", ".join(f"{run.mode} run {run.repeat}" for run in busy)
            )
        return found


ProgressCallback = Callable[[str], None]


def packed_jobs(text: str, device: torch.device, points: int) -> int:
    """``--jobs`` for the packed mode: what ``spectrum sweep --jobs`` would start, at least 2."""
    if str(text).strip() == "1":
        raise SpecError("--jobs 1 is the sequential mode; give 2 or more workers, or auto")
    jobs = workers.resolve_jobs(text, device, points)
    if jobs < 2:
        why = "the grid has one point" if points < 2 else f"{device} gets one worker"
        raise SpecError(
            f"--jobs {text}: packing would start 1 worker here ({why}); give a grid of 2 or "
            f"more points and --jobs 2 or more ({workers.THREADS_ENV}=1 to oversubscribe)"
        )
    return jobs


def trial_threads(records: list[dict]) -> tuple[int, ...]:
    """The distinct thread counts in the trials' ``device`` ("cpu (2 threads)")."""
    found = {re.search(r"\((\d+) threads?\)", str(r.get("device", ""))) for r in records}
    return tuple(sorted({int(match.group(1)) for match in found if match}))


def wait_for(processes: list[subprocess.Popen], on_poll: Callable[[], None], poll_s: float) -> None:
    """Return the moment the last process exits, calling ``on_poll`` every ``poll_s`` before."""
    while alive := [p for p in processes if p.poll() is None]:
        try:
            alive[0].wait(timeout=poll_s)
        except subprocess.TimeoutExpired:
            pass
        if any(p.poll() is None for p in processes):
            on_poll()


def timed_run(
    settings: SweepBenchSettings,
    plan: SweepPlan,
    device: torch.device,
    repeat: int,
    shape: tuple[str, int, int],  # mode, workers, threads per worker
    work_dir: Path,
    say: ProgressCallback,
    poll_s: float = POLL_S,
) -> SweepRun:
    """Run the grid once, in a fresh study, with ``shape``'s workers; check and record it."""
    mode, jobs, threads = shape
    out = work_dir / f"{mode}-{repeat}"
    out.mkdir(parents=True)
    name, storage_path, total = f"bench-{mode}-{repeat}", out / "study.db", len(plan.points())
    load_before = load_average()[0]
    marks = cpu_marks()
    start = time.perf_counter()
    storage = open_storage(str(storage_path), out, heartbeat=False)
    study_run = StudyRun(plan, name, storage, device, out, storage_path.name)
    study_run.prepare()  # create the study and queue the grid, as spectrum sweep --jobs N does
    shown = [0]

    def progress() -> None:
        done = workers.study_progress(study_run.load(), sweep=True)[0]
        if done != shown[0]:
            shown[0] = done
            say(f"  {done}/{total} trials, {time.perf_counter() - start:.0f} s")

    with open(out / "workers.log", "w") as log:
        argv = settings.argv(device, name, str(storage_path), out)
        processes = workers.start_workers(argv, jobs, threads, stderr=log)
        wait_for(processes, progress, poll_s)
    wall_s = time.perf_counter() - start
    other_load = other_load_since(marks, wall_s)
    if failed := [p.returncode for p in processes if p.returncode != 0]:
        tail = (out / "workers.log").read_text().strip().splitlines()[-1:] or ["no message"]
        raise SpectrumError(
            f"bench sweep: {len(failed)} of {jobs} {mode} workers failed (exit {failed[0]}): "
            f"{tail[0]}"
        )
    trials = study_run.load().get_trials(deepcopy=False)
    records = [t.user_attrs for t in trials if t.user_attrs.get("grid_key") and is_finished(t)]
    run = SweepRun(
        repeat=repeat,
        mode=mode,
        jobs=jobs,
        threads=threads,
        grid_points=total,
        trials=len({r["grid_key"] for r in records}),
        trained=len(records),
        complete=sum(r.get("status") == "complete" for r in records),
        precision=",".join(sorted({str(r.get("precision")) for r in records})),
        trial_threads=trial_threads(records),
        trial_s_mean=statistics.fmean([r.get("wall_time_s") or 0.0 for r in records] or [math.nan]),
        wall_s=wall_s,
        load_before=load_before,
        load_after=load_average()[0],
        other_load=other_load,
    )
    if run.trials != total or run.trained != total:
        raise SpectrumError(
            f"bench sweep: the {mode} run finished {run.trials} of {total} grid points in "
            f"{run.trained} trials; each point must run exactly once"
        )
    if device.type == "cpu" and run.trial_threads != (threads,):
        raise SpectrumError(
            f"bench sweep: {mode} trials ran with {run.trial_threads} threads, not {threads}"
        )
    return run


def bench_sweep(
    settings: SweepBenchSettings,
    device: torch.device,
    *,
    command: str = "",
    on_progress: ProgressCallback | None = None,
    work_dir: Path | None = None,
    poll_s: float = POLL_S,
) -> SweepBench:
    """Run the grid ``settings.repeats`` times in each mode, alternating; returns every run.

    Studies go to a temporary directory (inside ``work_dir`` if given), removed at the end.
    """
    say = on_progress or (lambda _text: None)
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # as run_sweep: no line per study
    plan = settings.plan()
    points = len(plan.points())
    jobs = packed_jobs(settings.jobs, device, points)
    shapes = [("sequential", 1, workers.worker_threads(1))]
    shapes.append(("packed", jobs, workers.worker_threads(jobs)))
    load_start = load_average()
    if load_start[0] > QUIET_LOAD:
        say(f"note: load average {load_start[0]:.2f} before starting: the machine is not quiet")
    splits = load_dataset(plan.data)  # fails here, in one line, if the data are missing
    runs = []
    with tempfile.TemporaryDirectory(prefix="spectrum-bench-sweep-", dir=work_dir) as tmp:
        for repeat in range(1, settings.repeats + 1):
            for shape in shapes:
                where = f"repeat {repeat}/{settings.repeats}, {shape[0]}"
                say(f"{where}: {shape[1]} worker(s) x {shape[2]} thread(s), {points} trials")
                run = timed_run(settings, plan, device, repeat, shape, Path(tmp), say, poll_s)
                say(f"{where}: {run.wall_s:.1f} s = {run.trials_per_hour:.1f} trials/h")
                runs.append(run)
    return SweepBench(
        settings=settings,
        runs=tuple(runs),
        device=device_name(device),
        label=device_label(device, shapes[0][2]),
        cores=usable_cores(),
        cpu=cpu_name(),
        env=threading_env(),
        dataset=splits.name,
        source=splits.source,
        train_images=min(settings.train_subset, len(splits.train_y)),
        load_start=tuple(load_start),
        load_end=tuple(load_average()),
        date=_dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        torch=torch.__version__,
        command=command,
    )
