"""Analysis of a search study (multi-objective over per-flow g and friends). Plain data only.

(Named ``search_study`` so that it does not read as :mod:`spectrum.study.search`, which runs
the search; this module only reads a finished or running one.)

Owns: the objectives (names from ``study.user_attrs["objectives"]``, directions from the
study), how each objective's values are shown, the Pareto front of the feasible complete trials,
the table of ``study.best_trials`` (infeasible ones left out), parameter importances per
objective (PED-ANOVA, with the target negated for maximised objectives since the evaluator
treats lower as better; skipped below :data:`MIN_IMPORTANCE_TRIALS`), the best-so-far history, and
the statistical front of ``--confirm`` (:func:`statistical_front`, read from the study attribute
``front_confirm``; the decisions are made by :mod:`.front`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import optuna
import pandas as pd
from optuna.study import StudyDirection

from ... import fmt
from ...options import SEARCH_OBJECTIVES, SearchObjective
from ...stats.inference import t_interval
from .pareto import non_dominated

MIN_IMPORTANCE_TRIALS = 10


@dataclass(frozen=True)
class Objective:
    """An objective of a stored search: its place among the study's values, its direction, and
    how it shows (:data:`spectrum.options.SEARCH_OBJECTIVES`; a name not there shows plain)."""

    index: int
    name: str
    maximize: bool

    @property
    def kind(self) -> SearchObjective | None:
        return SEARCH_OBJECTIVES.get(self.name)

    @property
    def axis_label(self) -> str:
        return self.kind.axis if self.kind else self.name

    @property
    def log(self) -> bool:
        return self.kind.log if self.kind else False

    def shown(self, value: float) -> float:
        """The value on a plot axis (accuracy as a percentage)."""
        return value * self.kind.scale if self.kind else value

    def text(self, value) -> str:
        return self.kind.text(value) if self.kind else fmt.number(value, 4)


def objectives(study) -> list[Objective]:
    names = study.user_attrs.get("objectives") or []
    directions = study.directions
    if len(names) != len(directions):
        names = [f"objective {i}" for i in range(len(directions))]
    return [
        Objective(i, str(n), d == StudyDirection.MAXIMIZE)
        for i, (n, d) in enumerate(zip(names, directions))
    ]


def values_matrix(usable: pd.DataFrame, objs: list[Objective]) -> np.ndarray:
    if usable.empty:
        return np.zeros((0, len(objs)))
    return np.array([list(v) for v in usable["values"]], dtype=float).reshape(
        len(usable), len(objs)
    )


def front_mask(usable: pd.DataFrame, objs: list[Objective]) -> np.ndarray:
    """Non-dominated feasible trials over all objectives."""
    return non_dominated(values_matrix(usable, objs), [o.maximize for o in objs])


def best_trials(
    study, frame: pd.DataFrame, usable: pd.DataFrame, objs: list[Objective]
) -> tuple[list[optuna.trial.FrozenTrial], list[int]]:
    """``study.best_trials``, or the best feasible trials when those include infeasible ones.

    Optuna does not know the report's feasibility, so an infeasible trial can dominate
    ``study.best_trials``; then the non-dominated feasible trials (for one objective: the best
    feasible one) are returned instead. Also returns the infeasible trial numbers replaced.
    """
    try:
        best = list(study.best_trials)
    except (ValueError, RuntimeError):
        best = []
    status = dict(zip(frame["trial"], frame["status"]))
    infeasible = sorted(t.number for t in best if status.get(t.number) == "infeasible")
    if infeasible and not usable.empty:
        mask = front_mask(usable, objs)
        numbers = set(usable.loc[mask, "trial"]) if len(objs) > 1 else set()
        if len(objs) == 1:
            values = values_matrix(usable, objs)[:, 0]
            index = int(np.argmax(values) if objs[0].maximize else np.argmin(values))
            numbers = {usable["trial"].iloc[index]}
        best = [t for t in study.get_trials(deepcopy=False) if t.number in numbers]
    elif infeasible:
        best = []
    return sorted(best, key=lambda t: t.number), infeasible


def best_trials_rows(trials, objs: list[Objective]) -> tuple[tuple[str, ...], list[tuple]]:
    flows = ("entry", "middle", "exit")
    names = sorted(
        {name for t in trials for name in t.params},
        key=lambda n: (flows.index(n) if n in flows else len(flows), n),
    )
    columns = ("trial", "segments", *names, *(o.name for o in objs))
    rows = []
    for t in trials:
        rows.append(
            (
                str(t.number),
                fmt.text(t.user_attrs.get("segments")),
                *(
                    fmt.text(t.params.get(n))
                    if not isinstance(t.params.get(n), float)
                    else fmt.number(t.params[n], 4)
                    for n in names
                ),
                *(o.text(t.values[o.index]) if t.values else fmt.MISSING for o in objs),
            )
        )
    return columns, rows


@dataclass(frozen=True)
class Importances:
    table: dict  # objective name -> {param: importance}, params by descending importance
    note: str


def importances(study, usable: pd.DataFrame, objs: list[Objective]) -> Importances:
    """PED-ANOVA importances per objective over the feasible complete trials."""
    n = len(usable)
    if n < MIN_IMPORTANCE_TRIALS:
        return Importances(
            {},
            f"Parameter importances skipped: {n} feasible complete "
            f"trial{'s' if n != 1 else ''}, fewer than the "
            f"{MIN_IMPORTANCE_TRIALS} needed for a meaningful estimate.",
        )
    numbers = set(usable["trial"])
    trials = [t for t in study.get_trials(deepcopy=False) if t.number in numbers]
    if not any(t.params for t in trials):
        return Importances({}, "Parameter importances skipped: the trials have no parameters.")
    level = optuna.logging.get_verbosity()
    table = {}
    try:
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            copy = optuna.create_study(directions=study.directions)
            copy.add_trials(trials)
            for o in objs:
                sign = -1.0 if o.maximize else 1.0
                result = optuna.importance.get_param_importances(
                    copy, target=lambda t, i=o.index, s=sign: s * t.values[i]
                )
                table[o.name] = {k: float(v) for k, v in result.items()}
    except Exception as error:  # noqa: BLE001 - any evaluator failure becomes a note
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        return Importances({}, f"Parameter importances skipped: {message}")
    finally:
        optuna.logging.set_verbosity(level)
    return Importances(
        table,
        f"PED-ANOVA importances over {n} feasible complete trials, one "
        "column per objective (each column sums to 1).",
    )


def history(usable: pd.DataFrame, o: Objective) -> pd.DataFrame:
    """Trial number, value and best value so far for one objective, in trial order."""
    rows = usable.sort_values("trial")
    values = np.array([v[o.index] for v in rows["values"]], dtype=float)
    best = np.maximum.accumulate(values) if o.maximize else np.minimum.accumulate(values)
    return pd.DataFrame({"trial": rows["trial"].to_numpy(), "value": values, "best": best})


@dataclass(frozen=True)
class FrontRow:
    """One candidate of the statistical front: its seeds' accuracies (pp) and verdict."""

    trial: int
    segments: str
    costs: dict  # cost objective name -> exact count
    accuracies: tuple[float, ...]
    mean: float
    ci_low: float
    ci_high: float
    status: str
    dominated_by: tuple[int, ...]
    undecided_with: tuple[int, ...]


def statistical_front(study, usable: pd.DataFrame, objs: list[Objective]) -> list[FrontRow]:
    """The ``--confirm`` candidates with their seeds, intervals and decisions (empty without)."""
    stored = study.user_attrs.get("front_confirm") or {}
    decision = stored.get("decision")
    if not decision:
        return []
    by_trial = {int(r["trial"]): r for _, r in usable.iterrows()}
    runs = stored.get("runs", {})
    rows = []
    for number in stored.get("candidates", []):
        row = by_trial.get(int(number))
        if row is None:
            continue
        seeds = runs.get(str(number), {})
        accs = (100.0 * row["values"][_index(objs, "accuracy")],) + tuple(
            100.0 * seeds[s]["val_acc"] for s in sorted(seeds, key=int)
        )
        interval = t_interval(accs)
        rows.append(
            FrontRow(
                int(number),
                fmt.text(row["segments"]),
                {o.name: row["values"][o.index] for o in objs if o.name != "accuracy"},
                accs,
                interval.mean,
                interval.ci_low,
                interval.ci_high,
                decision["status"][str(number)],
                tuple(decision["dominated_by"].get(str(number), ())),
                tuple(decision["undecided_with"].get(str(number), ())),
            )
        )
    return rows


def _index(objs: list[Objective], name: str) -> int:
    return next(o.index for o in objs if o.name == name)
