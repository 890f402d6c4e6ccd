"""Packing: ``--jobs N`` worker processes of one study on this machine.

``spectrum sweep``, ``spectrum search`` and ``spectrum run`` with ``--jobs N`` (N > 1) prepare the
study (create it and queue a sweep's grid, or check a search's plan), then start N copies of the
same command with ``--jobs 1`` as workers (:func:`start_workers`) on the study's storage. The
workers claim trials through the storage exactly as workers started by hand do (see
:mod:`spectrum.study.sweep` and :mod:`spectrum.study.search`), so the results do not depend on N.
The parent shows the progress of all of them, read from the storage (:func:`study_progress`),
and writes results.csv and the report at the end.

CPU threads are split between the workers: each gets ``cores // N`` intra-op threads (at least
one), unless ``SPECTRUM_THREADS`` is set, which then applies to each worker. More workers than
cores is refused unless ``SPECTRUM_THREADS`` is set (oversubscribing on purpose).

``--jobs auto`` (the default): on the CPU, as many one-thread workers as there are cores (with
``SPECTRUM_THREADS=T``: cores // T), never more than the trials left to run; on a GPU, one. On
the 2-core development CPU two one-thread proxy trials side by side ran 1.3-1.48x faster than the
same trials one after the other with two threads each (``spectrum bench sweep`` measures this).
``SPECTRUM_JOBS`` sets the default.

The default SQLite storage serves several processes on one machine: every connection waits up to
``SQLITE_BUSY_TIMEOUT_S`` for another's write lock instead of failing with "database is locked".
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import IO

import optuna
import torch
from optuna.trial import TrialState

from ..device import usable_cores
from ..errors import SpecError, SpectrumError

WORKER_ENV = "SPECTRUM_WORKER"  # set in the workers a packed run starts
JOBS_ENV = "SPECTRUM_JOBS"
THREADS_ENV = "SPECTRUM_THREADS"


def is_worker() -> bool:
    """Whether this process is a worker started by a packed run (no report, no bars)."""
    return os.environ.get(WORKER_ENV) == "1"


def _threads_override(env) -> int | None:
    text = env.get(THREADS_ENV, "").strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise SpecError(f"{THREADS_ENV}={text!r}: give a positive number of threads") from None
    if value < 1:
        raise SpecError(f"{THREADS_ENV}={text!r}: give a positive number of threads")
    return value


def resolve_jobs(
    text: str, device: torch.device, pending: int, *, cores: int | None = None, env=None
) -> int:
    """The number of workers for ``--jobs text`` (``auto`` or a positive integer).

    Never more than ``pending`` (the trials left), never less than one.
    """
    env = os.environ if env is None else env
    cores = cores or usable_cores()
    override = _threads_override(env)
    value = str(text).strip().lower()
    if value == "auto":
        jobs = 1 if device.type != "cpu" else max(1, cores // (override or 1))
    else:
        try:
            jobs = int(value)
        except ValueError:
            raise SpecError(f"--jobs {text!r}: give auto or a positive integer") from None
        if jobs < 1:
            raise SpecError(f"--jobs {text!r}: give auto or a positive integer")
        if device.type == "cpu" and jobs > cores and override is None:
            raise SpecError(
                f"--jobs {jobs} is more workers than the {cores} CPU cores here; use --jobs "
                f"{cores} or fewer, or set {THREADS_ENV}=1 to oversubscribe on purpose"
            )
    return max(1, min(jobs, pending))


def worker_threads(jobs: int, *, cores: int | None = None, env=None) -> int:
    """Intra-op threads for each of ``jobs`` workers: ``SPECTRUM_THREADS``, else cores // jobs."""
    env = os.environ if env is None else env
    return _threads_override(env) or max(1, (cores or usable_cores()) // jobs)


def worker_command(argv: list[str]) -> list[str]:
    """The command a worker runs: ``argv`` (after ``spectrum``) with ``--jobs 1``.

    ``argv`` is given explicitly (the parsed command's own arguments, or a list built by the
    caller such as ``spectrum bench sweep``), never read from ``sys.argv``, which names another
    program when the CLI runs in-process (``cli.main(argv)``, a test runner).
    """
    args: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--jobs":
            skip = True
        elif not arg.startswith("--jobs="):
            args.append(arg)
    return [sys.executable, "-m", "spectrum", *args, "--jobs", "1"]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def start_workers(
    argv: list[str], jobs: int, threads: int, *, stderr: int | IO | None = None
) -> list[subprocess.Popen]:
    """Start ``jobs`` workers running ``argv`` (see :func:`worker_command`) with ``threads``
    threads each; their stderr goes to ``stderr`` (default: this process's).

    A worker is killed when its parent dies (Linux); its trial is then re-run by the next worker
    that opens the study, like any trial whose process died.
    """
    env = {**os.environ, WORKER_ENV: "1", THREADS_ENV: str(threads)}
    command = worker_command(argv)
    preexec = _die_with_parent if sys.platform.startswith("linux") else None
    return [
        subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=stderr, preexec_fn=preexec
        )
        for _ in range(jobs)
    ]


def run_workers(
    argv: list[str],
    jobs: int,
    threads: int,
    watch: Callable[[list[subprocess.Popen]], None],
    storage_label: str,
    resume: str,
) -> None:
    """Start ``jobs`` workers (:func:`start_workers`) and ``watch`` them: ``watch(processes)``
    returns once every worker has exited (the caller shows their progress meanwhile).

    On KeyboardInterrupt (Ctrl-C, or SIGTERM under :func:`spectrum.stopping.sigterm_as_interrupt`)
    every worker still running gets SIGTERM, not SIGINT, which a background job's workers inherit
    ignored: each stores its trial as interrupted (see :mod:`spectrum.stopping`); once all have
    exited, the interrupt goes on. A worker that failed is a SpectrumError that says where the
    finished trials are kept and, in ``resume``, how to resume.
    """
    processes = start_workers(argv, jobs, threads)
    try:
        watch(processes)
    except KeyboardInterrupt:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait()
        raise
    failed = [process.returncode for process in processes if process.returncode != 0]
    if failed:
        raise SpectrumError(
            f"{len(failed)} of {jobs} workers failed (exit {failed[0]}); finished trials are "
            f"kept in {storage_label}; {resume}"
        )


def trial_label(trial: optuna.trial.FrozenTrial) -> str:
    """A short name of a running trial: its grid key, or a search trial's coordinates."""
    attrs = trial.user_attrs
    if attrs.get("grid_key"):
        return attrs["grid_key"]
    if attrs.get("segments") is not None:
        return f"#{trial.number} g={attrs['segments']} w={attrs.get('width_multiplier', 1):g}"
    return f"#{trial.number}"


def study_progress(
    study: optuna.Study, sweep: bool
) -> tuple[int, int, list[optuna.trial.FrozenTrial]]:
    """(finished trials, trials known so far, the trials that ended with a record).

    For a sweep both counts are of grid points: a sequential sweep's grid grows as each look
    queues its next round, so the known points (queued, running or finished) are its total so far.
    """
    trials = study.get_trials(deepcopy=False)
    if sweep:
        from ..records import is_finished

        ended = [t for t in trials if t.user_attrs.get("grid_key") and is_finished(t)]
        done = len({t.user_attrs["grid_key"] for t in ended})
        known = len({t.user_attrs["grid_key"] for t in trials if t.user_attrs.get("grid_key")})
    else:
        ended = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
        done = len(ended)
        known = len(trials)
    return done, known, ended
