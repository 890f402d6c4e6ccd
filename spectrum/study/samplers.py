"""Samplers and pruners of a search, and the per-trial seeding that makes workers differ.

Every trial's sampler is seeded from (``seed``, trial number) by :class:`TrialSeededSampler`, so a
single-worker search is reproducible and workers started with the same ``--seed`` never draw the
same random startup points. :func:`random_point` draws the untried point that replaces a
duplicate. One objective: TPE (or NSGA-II / random) with a pruner (median or
Hyperband); several objectives: NSGA-II or TPE, and no Optuna pruner (the ``front`` pruner is not
an Optuna pruner: :mod:`spectrum.study.search` asks :mod:`spectrum.study.front_pruner` itself).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import optuna

from .plan import SearchPlan
from .space import SearchSpace

NSGA2_POPULATION = 10


def trial_seed(seed: int, number: int) -> int:
    """A 32-bit seed for trial ``number`` of a search seeded with ``seed``."""
    return int(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(number)]).generate_state(1)[0])


class TrialSeededSampler(optuna.samplers.BaseSampler):
    """A fresh inner sampler for every trial, seeded from (seed, trial number).

    TPE, NSGA-II and random sampling keep their history in the study, not in the sampler
    object, so a per-trial instance loses nothing. What it gains: a single worker is
    reproducible, and several workers started with the same seed draw different points.
    """

    def __init__(self, make: Callable[[int], optuna.samplers.BaseSampler], seed: int) -> None:
        self._make = make
        self._seed = seed
        self._current: tuple[int, optuna.samplers.BaseSampler] | None = None

    def _inner(self, trial) -> optuna.samplers.BaseSampler:
        if self._current is None or self._current[0] != trial.number:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                self._current = (trial.number, self._make(trial_seed(self._seed, trial.number)))
        return self._current[1]

    def infer_relative_search_space(self, study, trial):
        return self._inner(trial).infer_relative_search_space(study, trial)

    def sample_relative(self, study, trial, search_space):
        return self._inner(trial).sample_relative(study, trial, search_space)

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self._inner(trial).sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study, trial) -> None:
        self._inner(trial).before_trial(study, trial)

    def after_trial(self, study, trial, state, values) -> None:
        self._inner(trial).after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:  # seeds come from the trial number
        pass


def make_sampler(plan: SearchPlan) -> optuna.samplers.BaseSampler:
    if plan.sampler == "nsga2":

        def make(seed: int) -> optuna.samplers.BaseSampler:
            return optuna.samplers.NSGAIISampler(population_size=NSGA2_POPULATION, seed=seed)
    elif plan.sampler == "random":

        def make(seed: int) -> optuna.samplers.BaseSampler:
            return optuna.samplers.RandomSampler(seed=seed)
    else:

        def make(seed: int) -> optuna.samplers.BaseSampler:
            # constant_liar: running trials count as bad, so parallel workers spread out.
            return optuna.samplers.TPESampler(seed=seed, constant_liar=True)

    return TrialSeededSampler(make, plan.seed)


def make_pruner(plan: SearchPlan) -> optuna.pruners.BasePruner:
    name = plan.pruner_name
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=0)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=plan.train.epochs, reduction_factor=3
        )
    return optuna.pruners.NopPruner()


def sample_point(trial: optuna.Trial, space: SearchSpace) -> dict[str, Any]:
    """The trial's point of the space, from the study's sampler."""
    params = {
        name: trial.suggest_categorical(name, list(values))
        for name, values in space.choices().items()
    }
    if space.lr_range is not None:
        params["lr"] = trial.suggest_float("lr", *space.lr_range, log=True)
    return params


def random_point(study: optuna.Study, plan: SearchPlan, number: int) -> dict[str, Any]:
    """A point of the space drawn at random (seeded by the trial number), not yet tried."""
    rng = np.random.default_rng(trial_seed(plan.seed + 1, number))
    tried = [t.params for t in study.get_trials(deepcopy=False)]
    for _ in range(20):
        point = {
            name: values[int(rng.integers(len(values)))]
            for name, values in plan.space.choices().items()
        }
        if plan.space.lr_range is not None:
            low, high = np.log(plan.space.lr_range)
            point["lr"] = float(np.exp(rng.uniform(low, high)))
        if point not in tried:
            break
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in point.items()}
