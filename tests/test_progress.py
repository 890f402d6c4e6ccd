"""The bar of a packed run (``--jobs N``): an epoch reported by a worker reaches it."""

from __future__ import annotations

import io
from types import SimpleNamespace

import optuna

from spectrum.commands.progress import packed_bar, watch_workers
from spectrum.engine.train import TrainConfig
from spectrum.study.grid import SweepPlan

optuna.logging.set_verbosity(optuna.logging.WARNING)
KEY = "g=4|depthwise-first|act=none|residual=on|seed=0"


class Exited:
    """A worker process that has already exited: the bar is drawn once and the watch ends."""

    returncode = 0

    def poll(self) -> int:
        return 0


def test_a_running_trials_epoch_reaches_the_bar():
    study = optuna.create_study(direction="maximize")
    running = study.ask()  # RUNNING, as a worker's claimed trial is
    running.set_user_attr("grid_key", KEY)
    running.report(0.81, 1)  # what a sweep worker stores at the end of epoch 1
    run = SimpleNamespace(plan=SweepPlan(train=TrainConfig(epochs=4)), total=2, load=lambda: study)
    out = io.StringIO()
    bar = packed_bar(run.total)
    bar.fp = out
    watch_workers([Exited()], run, bar, poll_s=0.0)
    assert bar.postfix == f"1 running: {KEY} epoch 2/4"
    # One of the trial's four epochs is done: a quarter of a trial, so the bar moved and the
    # ETA (tqdm's, from the rate so far) is a time, not "?".
    assert bar.n == 0.25
    line = str(bar)
    assert "0.25/2" in line and "<?" not in line and "epoch 2/4" in line
    running.report(0.84, 2)
    watch_workers([Exited()], run, bar, poll_s=0.0)
    assert bar.n == 0.5 and bar.postfix.endswith("epoch 3/4")
    bar.close()


def test_a_queued_round_grows_the_bars_total():
    """A sequential sweep's look queues a round: the bar counts it (it stayed at 21/21 before)."""
    study = optuna.create_study(direction="maximize")
    finished = study.ask()
    finished.set_user_attr("grid_key", KEY)
    finished.set_user_attr("status", "complete")
    study.tell(finished, 0.9)
    for seed in (1, 2):  # the next round, queued by the look
        study.enqueue_trial({}, user_attrs={"grid_key": KEY.replace("seed=0", f"seed={seed}")})
    run = SimpleNamespace(plan=SweepPlan(train=TrainConfig(epochs=4)), total=1, load=lambda: study)
    bar = packed_bar(run.total)
    bar.fp = io.StringIO()
    watch_workers([Exited()], run, bar, poll_s=0.0)
    assert bar.total == 3 and bar.n == 1
    assert "| 1/3 [" in str(bar)  # a whole count prints whole
    bar.close()
