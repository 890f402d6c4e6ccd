"""Pruning a multi-objective search: the rule "a finished trial that costs no more is ahead".

Costs (params, FLOPs, latency) are counted before a trial trains; only accuracy unfolds over
epochs. So a trial can be judged at epoch k against the finished trials: if one that costs no
more in every cost objective had, at the same epoch k, a validation accuracy above this trial's
by more than the band at epoch k (a seed-noise band), this trial is very unlikely to join the
front and is pruned (Optuna state PRUNED, status ``pruned``, its curve kept).

Everything it reads lives in Optuna's storage: the finished trials' costs and per-epoch curves
are user attributes, so any number of workers on one study prune against each other's results.
Optuna itself has no multi-objective pruning (``trial.report`` refuses several objectives), so
:mod:`spectrum.study.search` calls :meth:`FrontPruner.outrun_by` after every epoch instead.

The band (:class:`PruneBand`) depends on the epoch, since the early epochs of a short budget
are far noisier than the last: at epoch k of E it is ``z * sqrt(2) * sd_k``, a one-sided band
for the difference of two single-seed runs, with ``z`` at ``0.05 / (E - 1)`` (Bonferroni over a
trial's E - 1 looks). ``sd_k`` is the seed SD at epoch k: measured, where the study holds
repeated configurations' curves (the seeds ``--confirm`` stores) with at least
:data:`MIN_DF` degrees of freedom at that epoch, or where ``--prune-noise-from`` names an earlier
search at the same budget whose ``--confirm`` seeds measured it (:func:`pilot_noise`); else
``sd_E * (E / k) ** BAND_POWER``, where
``sd_E`` follows from ``--prune-band`` (:data:`DEFAULT_PRUNE_BAND`, the band for the final
accuracy: ``1.645 * sqrt(2) * sd_E``). :data:`BAND_POWER` is fitted to the seed SD per epoch
that repeated configurations measured (reports/search-front-pruning, docs/search.md).
:func:`outrun_by` is also the screen that picks the candidates of the statistical front (at
the last epoch, with the final band).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.trial import TrialState
from scipy import stats

from ..errors import SpecError
from ..stats.front import curve_noise

# 1.645 * sqrt(2) * 0.65 pp: a one-sided 95% band for the difference of two single-seed runs
# whose seed SD is 0.65 pp, the upper end of the 0.3-0.7 pp measured at the search budget.
DEFAULT_PRUNE_BAND = 0.015
# Seed SD at epoch k of E relative to the last epoch's, (E / k) ** BAND_POWER: the least-squares
# fit (on logs, through the origin) of the ratios measured on 7 configurations x 5-7 seeds of
# reports/search-front-pruning/none-seed0 (18.5, 5.3 and 2.2 at k / E = 1/4, 1/2, 3/4).
BAND_POWER = 2.2
PRUNE_ALPHA = 0.05  # one-sided, per trial, split over its looks
MIN_DF = 10  # measured seed SD is used at an epoch from this many degrees of freedom on
Z_ONE = float(stats.norm.ppf(1 - PRUNE_ALPHA))
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


@dataclass(frozen=True)
class PruneBand:
    """The pruning band per epoch (accuracy, a fraction); ``final`` is ``--prune-band``."""

    final: float = DEFAULT_PRUNE_BAND
    power: float = BAND_POWER

    def z(self, epochs: int) -> float:
        """One-sided normal quantile at PRUNE_ALPHA / (epochs - 1): Bonferroni over the looks."""
        return float(stats.norm.ppf(1 - PRUNE_ALPHA / max(epochs - 1, 1)))

    def at(self, epoch: int, epochs: int, measured_sd: float | None = None) -> float:
        """The band after ``epoch`` of ``epochs`` (``measured_sd``: the seed SD at that epoch)."""
        if not 1 <= epoch <= epochs:
            raise ValueError(f"epoch {epoch} is not in 1..{epochs}")
        z = Z_ONE if epoch == epochs else self.z(epochs)  # the last epoch is one comparison
        if measured_sd is not None:
            return z * math.sqrt(2.0) * measured_sd
        return self.final * z / Z_ONE * (epochs / epoch) ** self.power


def measured_sd(study: optuna.Study) -> dict[int, float]:
    """Seed SD of validation accuracy per epoch from the study's repeated configurations (the
    search trial and its ``--confirm`` seeds), at the epochs with >= MIN_DF degrees of freedom."""
    runs = (study.user_attrs.get("front_confirm") or {}).get("runs") or {}
    if not runs:
        return {}
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    groups = []
    for number, seeds in runs.items():
        trial = trials.get(int(number))
        curve = (trial.user_attrs.get("curve") or []) if trial is not None else []
        group = [[float(p["val_acc"]) for p in curve]] if curve else []
        group += [list(r.get("val_curve") or []) for r in seeds.values()]
        groups.append(group)
    return {k: sd for k, (sd, df) in curve_noise(groups).items() if df >= MIN_DF}


# What must be equal for a pilot search's seed noise to stand for this search's: the training
# (epochs, batch, learning rate, schedule, subset, precision, ...) and the validation data.
PILOT_DATA_KEYS = ("name", "val_size", "split_seed")


def pilot_noise(folder: str | Path, train: Mapping, data: Mapping) -> dict[int, float]:
    """The seed SD per epoch that a finished search's ``--confirm`` seeds measured
    (``--prune-noise-from``), checked to be at this search's budget (``train``: its
    :meth:`TrainConfig.as_dict`, ``data``: its DataConfig as a dict).

    Raises:
        SpecError: no study.db in ``folder``, a study that is not a search with ``--confirm``
            seeds, or one trained at another budget or on other data (the message names it).
    """
    from .storage import load_existing_study, open_storage

    flag = f"--prune-noise-from {folder}"
    if not (Path(folder) / "study.db").is_file():
        raise SpecError(f"{flag}: no study.db there; give a search's report folder")
    study = load_existing_study(open_storage(None, Path(folder), heartbeat=False), None)
    attrs = study.user_attrs
    if attrs.get("kind") != "search":
        raise SpecError(f"{flag}: not a search's study; give a search run with --confirm K")
    theirs, ours = attrs.get("train") or {}, dict(train)
    differ = [(k, theirs.get(k), ours.get(k)) for k in sorted(set(theirs) | set(ours))]
    their_data = attrs.get("data") or {}
    differ += [(f"data {k}", their_data.get(k), data.get(k)) for k in PILOT_DATA_KEYS]
    differ = [d for d in differ if d[1] != d[2]]
    if differ:
        key, there, here = differ[0]
        raise SpecError(
            f"{flag}: it was trained at another budget ({key}: {there!r} there, {here!r} "
            f"here); seed noise per epoch only carries over at the same training and data"
        )
    noise = measured_sd(study)
    if not noise:
        raise SpecError(
            f"{flag}: its study holds no --confirm seeds with >= {MIN_DF} degrees of freedom "
            f"at any epoch; re-run that search with --confirm K"
        )
    return noise


def cost_objectives(objectives: Sequence[str]) -> tuple[str, ...]:
    return tuple(o for o in objectives if o in COST_KEYS)


def trial_costs(attrs: Mapping, objectives: Sequence[str]) -> tuple[float, ...] | None:
    values = [attrs.get(COST_KEYS[o]) for o in cost_objectives(objectives)]
    if any(v is None or not math.isfinite(float(v)) for v in values):
        return None
    return tuple(float(v) for v in values)


def trial_cost_bounds(
    attrs: Mapping, objectives: Sequence[str]
) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """(low ends, high ends) of the trial's costs: a count is both ends; a measured latency has
    the distribution-free 95% interval of its median (``latency_ms_low``, ``latency_ms_high``),
    unbounded where the repeats were too few to give one. None when a cost is missing."""
    point = trial_costs(attrs, objectives)
    if point is None:
        return None
    low, high = list(point), list(point)
    for k, name in enumerate(cost_objectives(objectives)):
        if name == "latency":
            lo, hi = attrs.get("latency_ms_low"), attrs.get("latency_ms_high")
            ok = lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi)
            low[k], high[k] = (float(lo), float(hi)) if ok else (0.0, math.inf)
    return tuple(low), tuple(high)


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

    def __init__(
        self,
        objectives: Sequence[str],
        band: PruneBand,
        epochs: int,
        pilot_sd: Mapping[int, float] | None = None,
    ) -> None:
        """``pilot_sd``: the seed SD per epoch of :func:`pilot_noise`, used where the study's own
        repeated configurations do not measure it."""
        if "accuracy" not in objectives or not cost_objectives(objectives):
            raise ValueError("the front pruner needs accuracy and at least one cost objective")
        self.objectives = tuple(objectives)
        self.band = band
        self.epochs = epochs
        self.pilot_sd = dict(pilot_sd or {})

    def outrun_by(
        self, study: optuna.Study, attrs: Mapping, epoch: int, accuracy: float
    ) -> tuple[int, float] | None:
        """(the trial that outran this one, the band at ``epoch``), or None."""
        costs = trial_costs(attrs, self.objectives)
        if costs is None:  # not counted (cannot happen after before_training): never prune
            return None
        sd = measured_sd(study).get(epoch, self.pilot_sd.get(epoch))
        band = self.band.at(epoch, self.epochs, sd)
        by = outrun_by(costs, accuracy, epoch, finished_trials(study, self.objectives), band)
        return None if by is None else (by, band)
