"""The trial record: what one trained configuration stores on its Optuna trial.

Everything a report needs lives in the trial's ``user_attrs`` under the keys of
:class:`TrialRecord`, so that a report can be rebuilt from the storage alone. The study stage
(:mod:`spectrum.study.trial`) writes them; :func:`trial_row` flattens one trial into one row of
results.csv; :func:`load_results` does it for a whole study. These keys are a stored contract:
committed studies are read back by them, so a key is never renamed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

import pandas as pd
from optuna.trial import FrozenTrial, TrialState

from .errors import SpecError
from .options import STATUSES, Status  # noqa: F401  (re-exported: the record's vocabulary)

# In a record's ``versions``: a digest of the spectrum sources that trained it (records made
# before 2026-12-01 have none). See spectrum.study.trial.code_digest.
CODE_KEY = "spectrum_code"
# The statuses that end a grid point for good: training them again would end the same way.
FINISHED_STATUSES: tuple[Status, ...] = ("diverged", "failed")


class EpochPoint(TypedDict):
    """One entry of a record's ``curve``."""

    epoch: int
    train_loss: float
    val_acc: float
    seconds: float
    images_per_s: float


class TrialRecord(TypedDict, total=False):
    """The keys of ``trial.user_attrs``. Not every trial has every key (see each comment)."""

    kind: str  # "sweep" or "search"
    grid_key: str  # canonical name of the grid point (sweeps only; unique within the study)
    # The spectrum coordinates: segments as a label ("C" or an integer); for per-flow search
    # trials the entry/middle/exit values joined by "/".
    segments: str
    order: str
    activation: str
    residual: bool
    seed: int
    match: str  # none | params | flops | live-params | live-flops
    width_multiplier: float
    train: dict[str, Any]  # the training config (TrainConfig.as_dict())
    net: dict[str, Any]  # the net's summary (preset, flows, widths, rounding, ...)
    params: int
    flops: int  # fvcore: one multiply-add = 1
    # The parts of params and flops that touch real input, not only padding
    # (spectrum.cost.live; absent in records made before 2026-12-06).
    live_params: int
    live_flops: int
    activations: int  # elements of every conv output, one image (absent in older records)
    latency_ms: float  # median inference latency of one batch (when measured)
    latency_ms_low: float  # its distribution-free 95% interval (order statistics)
    latency_ms_high: float
    latency_ms_repeats: int  # timed repeats behind the median
    train_step_ms_low: float  # the training step's 95% interval
    train_step_ms_high: float
    train_step_ms_repeats: int
    latency_load_avg: float  # 1-minute load average when latency was measured
    train_step_ms: float  # median training step
    latency_batch: int  # batch size of both
    latency_precision: str
    status: Status
    error: str | None  # one line, for every status but complete
    curve: list[EpochPoint]
    val_acc: float | None  # final accuracies in [0, 1]; None unless the run completed
    test_acc: float | None
    wall_time_s: float
    device: str
    # float32 or bfloat16: what training (and latency) ran in; absent in records made before
    # precision was recorded (those ran in float32).
    precision: str
    dataset: str
    versions: dict[str, str]  # library versions, and CODE_KEY: the digest of the code
    # Bookkeeping of who ran the trial and why it was (not) run.
    worker: dict[str, Any]  # {"host", "pid"}
    alive_at: float  # sweeps: last sign of life (time.time())
    retry_of: int  # searches: the trial this re-queued copy repeats
    not_run: str  # searches: "surplus" or "duplicate"
    duplicate_of: int
    replaces_duplicate: int


# The study attribute "margin" when a study sets none: the equivalence margin in accuracy points.
# Below it, a proxy-scale difference is not a finding.
DEFAULT_MARGIN_PP = 0.5
MARGIN_HELP = (
    "Equivalence margin in accuracy points (default 0.5), stored on the study: within it a "
    "difference is 'equivalent'; a sequential sweep stops on it."
)


@dataclass(frozen=True)
class SeedSchedule:
    """A sequential sweep's planned looks, stored as the study attribute ``seed_schedule``.

    Every configuration starts with ``start`` seeds; after each look, configurations still in an
    undecided comparison get ``step`` more, up to ``max`` seeds. The looks are at ``start``,
    ``start + step``, ... and always at ``max``. The report splits its level over them, so the
    schedule is fixed when a study starts and never changes afterwards.
    """

    start: int
    step: int
    max: int

    def __post_init__(self) -> None:
        values = (self.start, self.step, self.max)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values) or (
            self.start < 2 or self.step < 1 or self.max < self.start
        ):
            raise SpecError(
                f"a seed schedule needs integers start >= 2, step >= 1 and max >= start, got "
                f"start={self.start!r}, step={self.step!r}, max={self.max!r}"
            )

    @property
    def looks(self) -> tuple[int, ...]:
        """Seed counts of the planned looks, ascending, ending at ``max``."""
        looks = list(range(self.start, self.max + 1, self.step))
        return tuple(looks if looks[-1] == self.max else [*looks, self.max])

    def as_attr(self) -> dict[str, int]:
        return {"start": self.start, "step": self.step, "max": self.max}

    @classmethod
    def from_attr(cls, raw) -> SeedSchedule:
        """The schedule stored on a study; SpecError naming the attribute if it is malformed."""
        try:
            start, step, top = (raw[k] for k in ("start", "step", "max"))
            return cls(start, step, top)
        except (KeyError, TypeError):
            raise SpecError(
                f"study attribute 'seed_schedule' must be {{start, step, max}}, got {raw!r}"
            ) from None
        except SpecError as error:
            raise SpecError(f"study attribute 'seed_schedule': {error}") from None


# The numeric columns of a results.csv row after its seed (the report reads them as floats).
NUMBER_COLUMNS = (
    "width_multiplier",
    "params",
    "flops",
    "live_params",
    "live_flops",
    "activations",
    "latency_ms",
    "latency_ms_low",
    "latency_ms_high",
    "train_step_ms",
    "train_step_ms_low",
    "train_step_ms_high",
    "latency_load_avg",
    "val_acc",
    "test_acc",
    "epochs_run",
    "wall_time_s",
)
ROW_COLUMNS = [
    "trial",
    "state",
    "status",
    "kind",
    "segments",
    "order",
    "activation",
    "residual",
    "seed",
    "match",
    *NUMBER_COLUMNS,
    "device",
    "precision",
    "dataset",
    "error",
]


def is_finished(trial: FrozenTrial) -> bool:
    """Whether this trial ended its grid point: completed, or ended deterministically."""
    if trial.state == TrialState.COMPLETE:
        return True
    return (
        trial.state == TrialState.FAIL
        and trial.user_attrs.get("status") in FINISHED_STATUSES
        and not trial.user_attrs.get("not_run")
    )


def trial_row(trial) -> dict:
    """One results.csv row from an ``optuna.trial.FrozenTrial``."""
    attrs = trial.user_attrs
    row = {column: attrs.get(column) for column in ROW_COLUMNS}
    row["trial"] = trial.number
    row["state"] = trial.state.name
    if trial.state.name in ("RUNNING", "WAITING"):
        # Unfinished: whatever status a record states ahead of time is not final yet.
        row["status"] = trial.state.name.lower()
    elif row["status"] is None:
        row["status"] = trial.state.name.lower()
    row["epochs_run"] = len(attrs.get("curve") or [])
    for name, value in trial.params.items():
        row[f"param_{name}"] = value
    return row


def load_results(study) -> pd.DataFrame:
    """results.csv for a whole ``optuna.Study``: one row per trial, in trial order."""
    rows = [trial_row(t) for t in study.get_trials(deepcopy=False)]
    if not rows:
        return pd.DataFrame(columns=ROW_COLUMNS)
    return pd.DataFrame(rows)


def curves_frame(study) -> pd.DataFrame:
    """Long table of per-epoch curves: one row per (trial, epoch), with the trial's coordinates."""
    rows = []
    for trial in study.get_trials(deepcopy=False):
        attrs = trial.user_attrs
        for point in attrs.get("curve") or []:
            rows.append(
                {
                    "trial": trial.number,
                    "status": attrs.get("status"),
                    "segments": attrs.get("segments"),
                    "order": attrs.get("order"),
                    "activation": attrs.get("activation"),
                    "residual": attrs.get("residual"),
                    "seed": attrs.get("seed"),
                    **point,
                }
            )
    return pd.DataFrame(rows)
