"""What a running command shows: tables, the trial and step progress bars of one process, the
bar of a packed run's workers (with each running trial's epoch, read from the storage).
"""

from __future__ import annotations

import time

import typer
from optuna.trial import TrialState
from tqdm import tqdm

from ..study import workers
from ..study.grid import SweepPlan
from ..study.trial import TrialEvents


def echo_table(frame, float_format: str = "{:.3f}") -> None:
    import pandas as pd

    with pd.option_context("display.max_columns", None, "display.width", 200):
        typer.echo(frame.to_string(index=False, float_format=float_format.format))


class TrialProgress:
    """tqdm bars for a run of trials: trials done (with ETA) and the current trial's steps.

    Its methods are the callbacks of :class:`spectrum.study.trial.TrialEvents` (:meth:`events`).
    """

    def __init__(self, total: int, done: int = 0) -> None:
        self.trials = tqdm(
            total=total, initial=done, desc="trials", unit="trial", dynamic_ncols=True
        )
        self.steps: tqdm | None = None

    def trial_started(self, done: int, total: int, label: str) -> None:
        self.trials.total = total  # a sequential sweep's grid grows round by round
        self.trials.n = done
        self.trials.set_postfix_str(label)
        self.trials.refresh()

    def step(self, epoch: int, step: int, steps: int) -> None:
        if self.steps is None or step == 1:
            if self.steps is not None:
                self.steps.close()
            self.steps = tqdm(
                total=steps, desc=f"  epoch {epoch}", unit="step", leave=False, dynamic_ncols=True
            )
        self.steps.update(1)

    def epoch(self, record) -> None:
        if self.steps is not None:
            self.steps.close()
            self.steps = None
        self.trials.write(
            f"    epoch {record.epoch}: loss {record.train_loss:.4f}, "
            f"val {record.val_acc:.4f}, {record.images_per_s:.0f} img/s"
        )

    def trial_finished(self, record: dict) -> None:
        self.trials.update(1)
        accuracy = record.get("test_acc")
        shown = f"test {accuracy:.4f}" if accuracy is not None else record.get("error", "")
        self.trials.write(
            f"  g={record['segments']} {record['order']} act={record['activation']}"
            f" seed={record['seed']}: {record['status']}, {shown}"
        )

    def close(self) -> None:
        if self.steps is not None:
            self.steps.close()
        self.trials.close()

    def events(self) -> TrialEvents:
        return TrialEvents(self.trial_started, self.step, self.epoch, self.trial_finished)


# A packed run's bar counts finished trials plus the finished epochs of the running ones, so
# that it moves (and its ETA, which tqdm takes from the rate so far, counts them) mid-trial;
# the count is whole ("2/4") between trials' epochs and has two decimals ("2.25/4") within.
PACKED_BAR_FORMAT = (
    "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]{postfix}"
)


def bar_count(trials: float) -> int | float:
    """``trials`` as the bar shows it: to two decimals, an int when whole."""
    rounded = round(float(trials), 2)
    return int(rounded) if rounded.is_integer() else rounded


def packed_bar(total: int) -> tqdm:
    """The bar of a packed run's workers (see :func:`watch_workers`)."""
    return tqdm(
        total=total, desc="trials", unit="trial", dynamic_ncols=True, bar_format=PACKED_BAR_FORMAT
    )


def running_epochs(trials, epochs: int) -> tuple[float, list[str]]:
    """(fraction of a trial done, summed over ``trials``; one label per trial with its epoch).

    A running trial reports each finished epoch to the storage (an Optuna intermediate value),
    so ``g=4|...|seed=0 epoch 2/4`` names the epoch it is in and 1/4 of it counts as done.
    """
    done, labels = 0.0, []
    for trial in trials:
        finished = min(len(trial.intermediate_values), epochs)
        done += finished / epochs if epochs else 0.0
        now = min(finished + 1, epochs)
        labels.append(f"{workers.trial_label(trial)} epoch {now}/{epochs}")
    return done, labels


def watch_workers(processes, study_run, bar: tqdm, poll_s: float) -> None:
    """Until every worker has exited, show on ``bar`` the trials finished and running (read from
    the storage), each running trial's epoch, and one line per trial as it ends."""
    sweep_run = isinstance(study_run.plan, SweepPlan)
    epochs = int(study_run.plan.train.epochs)
    shown: set[int] = set()
    while True:
        alive = [p for p in processes if p.poll() is None]
        study = study_run.load()
        done, known, ended = workers.study_progress(study, sweep_run)
        running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        partly, labels = running_epochs(running, epochs)
        for trial in ended:
            if trial.number not in shown:
                shown.add(trial.number)
                attrs = trial.user_attrs
                accuracy = attrs.get("test_acc")
                result = f"test {accuracy:.4f}" if accuracy is not None else attrs.get("error")
                bar.write(f"  {workers.trial_label(trial)}: {attrs.get('status')}, {result}")
        bar.total = max(study_run.total, known)  # a sequential sweep's grid grows by rounds
        bar.n = bar_count(min(done + partly, bar.total))
        bar.set_postfix_str(f"{len(running)} running: " + " | ".join(labels))
        bar.refresh()
        if not alive:
            return
        time.sleep(poll_s)
