"""Pruning a multi-objective search: the rule "a finished trial that costs no more is ahead".

Costs (params, FLOPs, latency) are counted before a trial trains; only accuracy unfolds over
epochs. So a trial can be judged at epoch k against the finished trials: if one that costs no
more in every cost objective had, at the same epoch k, a validation accuracy above this trial's
by more than ``band`` (a seed-noise band), this trial is very unlikely to join the front and is
pruned (Optuna state PRUNED, status ``pruned``, its curve kept).

Everything it reads lives in Optuna's storage: the finished trials' costs and per-epoch curves
are user attributes, so any number of workers on one study prune against each other's results.
Optuna itself has no multi-objective pruning (``trial.report`` refuses several objectives), so
:mod:`spectrum.study.search` calls :meth:`FrontPruner.outrun_by` after every epoch instead.

The band: ``--prune-band`` (default :data:`DEFAULT_PRUNE_BAND`), or one estimated from
repeated configurations (:func:`spectrum.report.analysis.front.noise_band`; the ``--confirm``
report prints it from the candidates' seeds).
:func:`outrun_by` is also the screen that picks the candidates of the statistical front.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import optuna
from optuna.trial import TrialState

# 1.645 * sqrt(2) * 0.65 pp: a one-sided 95% band for the difference of two single-seed runs
# whose seed SD is 0.65 pp, the upper end of the 0.3-0.7 pp measured at the search budget.
DEFAULT_PRUNE_BAND = 0.015
COST_KEYS = {"params": "params", "flops": "flops", "latency": "latency_ms"}


@dataclass(frozen=True)
class Finished:
    """A finished trial as the pruner sees it: its costs and validation accuracy per epoch."""

    number: int
    costs: tuple[float, ...]
    curve: Mapping[int, float]  # epoch -> val_acc


def outrun_by(
    costs: Sequence[float], accuracy: float, epoch: int, finished: Iterable[Finished], band: float
) -> int | None:
    """The number of a finished trial costing no more that was ahead by more than ``band`` at
    ``epoch`` (the one furthest ahead), or None."""
    best, margin = None, band
    for other in finished:
        acc = other.curve.get(epoch)
        if acc is None or not all(o <= c for o, c in zip(other.costs, costs)):
            continue
        if acc - accuracy > margin:
            best, margin = other.number, acc - accuracy
    return best


def cost_objectives(objectives: Sequence[str]) -> tuple[str, ...]:
    return tuple(o for o in objectives if o in COST_KEYS)


def trial_costs(attrs: Mapping, objectives: Sequence[str]) -> tuple[float, ...] | None:
    values = [attrs.get(COST_KEYS[o]) for o in cost_objectives(objectives)]
    if any(v is None or not math.isfinite(float(v)) for v in values):
        return None
    return tuple(float(v) for v in values)


def finished_trials(study: optuna.Study, objectives: Sequence[str]) -> list[Finished]:
    """The study's complete (trained, feasible) trials with their costs and curves."""
    out = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        attrs = trial.user_attrs
        if attrs.get("status") != "complete":
            continue
        costs = trial_costs(attrs, objectives)
        curve = {int(p["epoch"]): float(p["val_acc"]) for p in attrs.get("curve") or []}
        if costs is not None and curve:
            out.append(Finished(trial.number, costs, curve))
    return out


class FrontPruner:
    """Asked after every epoch by a multi-objective search trial; reads the storage each time."""

    def __init__(self, objectives: Sequence[str], band: float) -> None:
        if "accuracy" not in objectives or not cost_objectives(objectives):
            raise ValueError("the front pruner needs accuracy and at least one cost objective")
        self.objectives = tuple(objectives)
        self.band = band

    def outrun_by(
        self, study: optuna.Study, attrs: Mapping, epoch: int, accuracy: float
    ) -> int | None:
        costs = trial_costs(attrs, self.objectives)
        if costs is None:  # not counted (cannot happen after before_training): never prune
            return None
        return outrun_by(costs, accuracy, epoch, finished_trials(study, self.objectives), self.band)
