"""What a running command shows: tables, the trial and step progress bars of one process, the
bar of a packed run's workers (with each running trial's epoch, read from the storage), drawn
from the API's progress events (:class:`RunProgress`).
"""

from __future__ import annotations

import typer
from tqdm import tqdm

from ..api import runs
from ..engine.train import EpochRecord
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


def draw_workers(bar: tqdm, data: dict) -> None:
    """Show a ``workers`` event of a packed run (:func:`spectrum.api.runs.watch_workers`) on
    ``bar``: the trials finished and running, each running trial's epoch, one line per trial as
    it ends."""
    for trial in data["ended"]:
        accuracy = trial["test_acc"]
        result = f"test {accuracy:.4f}" if accuracy is not None else trial["error"]
        bar.write(f"  {trial['label']}: {trial['status']}, {result}")
    bar.total = data["total"]
    bar.n = bar_count(min(data["done"] + data["partly"], bar.total))
    bar.set_postfix_str(f"{len(data['running'])} running: " + " | ".join(data["running"]))
    bar.refresh()


def watch_workers(processes, study_run, bar: tqdm, poll_s: float) -> None:
    """Until every worker has exited, show a packed run's progress on ``bar``
    (:func:`draw_workers` of :func:`spectrum.api.runs.watch_workers`)."""
    runs.watch_workers(processes, study_run, lambda _, data: draw_workers(bar, data), poll_s)


def say(text: str) -> None:
    """A notice from the library (not an error): one line on stderr."""
    typer.echo(f"spectrum: {text}", err=True)


class RunProgress:
    """What a running study shows, drawn from the API's progress events
    (:data:`spectrum.api.runs.PROGRESS_EVENTS`): a run in this process, its trial and step bars
    (:class:`TrialProgress`); a packed run, a line naming its workers and their bar
    (:func:`draw_workers`); a packed run's worker, only the library's notices."""

    def __init__(self) -> None:
        self.opened: dict = {}
        self.trials: TrialProgress | None = None
        self.bar: tqdm | None = None
        self.in_process = False
        self.started = 0

    def __call__(self, event: str, data: dict) -> None:
        if event == "opened":
            self.opened = data
            if data.get("worker"):
                return
            if data["jobs"] > 1:
                typer.echo(
                    f"{data['jobs']} workers, {data['threads']} CPU thread(s) each, on "
                    f"{data['storage']}"
                )
                self.bar = packed_bar(data["total"])
            else:
                self.in_process = True
                self.trials = TrialProgress(data["total"])
        elif event == "notice":
            say(data["text"])
        elif event == "workers" and self.bar is not None:
            draw_workers(self.bar, data)
        elif self.trials is not None:
            if event == "trial_started":
                self.started += 1
                self.trials.trial_started(data["done"], data["total"], data["label"])
            elif event == "step":
                self.trials.step(data["epoch"], data["step"], data["steps"])
            elif event == "epoch":
                self.trials.epoch(EpochRecord(**data))
            elif event == "trial_finished":
                self.trials.trial_finished(data)

    @property
    def total(self) -> int:
        return self.opened.get("total", 0)

    @property
    def storage_label(self) -> str:
        return self.opened.get("storage", "the study's storage")

    @property
    def nothing_trained(self) -> bool:
        """A run in this process that found every trial done."""
        return self.in_process and self.started == 0

    def close(self) -> None:
        for shown in (self.trials, self.bar):
            if shown is not None:
                shown.close()
        self.trials = self.bar = None
