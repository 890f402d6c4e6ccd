"""``--confirm K``: re-train the candidates near a finished search's front with more seeds.

A search scores every point with one seed (``plan.seed``). Here:

1. **Screen**: a complete trial is a candidate unless a complete trial that costs no more has a
   validation accuracy above its own by more than ``plan.prune_band`` (the front pruner's rule,
   :func:`spectrum.study.front_pruner.outrun_by`, at the last epoch); the others are recorded as
   screened out, with the trial that beat them. A measured latency "costs no more" only when the
   other trial's interval of the median lies at or below this trial's
   (:func:`spectrum.study.front_pruner.trial_cost_bounds`).
2. **Seeds**: seed k of a candidate is ``plan.seed + k`` (k = 0 is the search trial itself).
   :func:`spectrum.stats.front.sequential_front` trains each candidate to
   ``rule.start`` seeds, decides every pair, and adds seeds only where dominance is undecided,
   up to ``K``.

Everything lives in the storage: each seed's result (val and test accuracy, val curve) is stored
as soon as it is trained in the search study's user attribute ``front_confirm``, with the rule,
the screen and the final decision, so a stopped run resumes where it was and the report is
rebuilt from the study alone. One process does it: every worker of the search reaches the end of
its loop, and the first to claim the study attribute ``front_confirm_by`` (its host and pid) runs
the confirmation while the others return; a claim whose process died on this host is taken over.
Costs are compared as exact counts, and a latency objective by the distribution-free 95% intervals
the search measured (once per trial; the confirmation seeds are not timed).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import optuna
from optuna.trial import TrialState

from ..errors import SpecError
from ..stats.front import FrontRule, sequential_front
from .front_pruner import Finished, cost_objectives, outrun_by, trial_cost_bounds
from .plan import SearchPlan
from .resume import dead_on_this_host, worker_id
from .space import net_for_params
from .trial import TrialSpec, fit_to_data, run_trial

ATTR = "front_confirm"
CLAIM = "front_confirm_by"


def screen(study: optuna.Study, plan: SearchPlan) -> tuple[list, dict[int, int]]:
    """(candidate trials in number order, {screened-out trial: the trial that beat it})."""
    done = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        attrs = trial.user_attrs
        bounds = trial_cost_bounds(attrs, plan.objectives)
        if attrs.get("status") == "complete" and bounds is not None and attrs.get("val_acc"):
            done.append((trial, bounds, float(attrs["val_acc"])))
    # Another trial's costs at their high ends against this one's at their low ends: it beats
    # this trial only when it decidedly costs no more.
    finals = [Finished(t.number, high, {0: a}) for t, (_, high), a in done]
    candidates, screened = [], {}
    for trial, (low, _), acc in done:
        others = [f for f in finals if f.number != trial.number]
        by = outrun_by(low, acc, 0, others, plan.prune_band)
        if by is None:
            candidates.append(trial)
        else:
            screened[trial.number] = by
    return candidates, screened


def claim(study: optuna.Study) -> bool:
    """Whether this process holds the confirmation (claiming it when free or its holder died)."""
    me = worker_id()
    holder = study.user_attrs.get(CLAIM)
    if holder is None or holder == me or dead_on_this_host(holder):
        study.set_user_attr(CLAIM, me)
    # Two workers that raced both wrote; the one whose claim the storage kept goes on
    # (study.user_attrs reads the storage).
    return study.user_attrs.get(CLAIM) == me


def confirm_front(study: optuna.Study, plan: SearchPlan, ctx: Any, max_seeds: int) -> dict | None:
    """Run (or resume) the confirmation of ``study``'s front; returns the stored attribute, or
    None when another worker holds it.

    ``ctx`` carries the search worker's data, splits, preset, device and events.
    """
    if not claim(study):
        return None
    rule = FrontRule(max_seeds=max_seeds)
    candidates, screened = screen(study, plan)
    stored = dict(study.user_attrs.get(ATTR) or {})
    runs: dict[str, dict[str, dict]] = stored.get("runs", {})
    state = {
        "rule": rule.as_dict(),
        "band": plan.prune_band,
        "objectives": list(plan.objectives),
        "screened": {str(k): v for k, v in screened.items()},
        "candidates": [t.number for t in candidates],
        "runs": runs,
    }
    study.set_user_attr(ATTR, state)
    budget = len(candidates) * rule.max_seeds
    done = [sum(len(runs.get(str(t.number), {})) for t in candidates)]

    def draw(i: int, k: int) -> float:
        trial = candidates[i]
        seed = plan.seed + k
        key = str(trial.number)
        if k == 0:
            return 100.0 * float(trial.user_attrs["val_acc"])
        if str(seed) in runs.get(key, {}):
            return 100.0 * runs[key][str(seed)]["val_acc"]
        net = fit_to_data(net_for_params(plan.space, trial.params, ctx.preset), ctx.splits)
        config = plan.train
        if "lr" in trial.params:
            config = replace(config, lr=float(trial.params["lr"]))
        ctx.events.trial_started(done[0], budget, f"confirm trial {trial.number} seed {seed}")
        record = run_trial(
            TrialSpec(net, config, seed, latency=None),
            ctx.data,
            ctx.device,
            dataset=ctx.splits.name,
            net=net,
            on_step=ctx.events.step,
            on_epoch=ctx.events.epoch,
        )
        ctx.events.trial_finished(record)
        if record["status"] != "complete" or record.get("val_acc") is None:
            raise SpecError(
                f"--confirm: trial {trial.number} with seed {seed} ended {record['status']} "
                f"({record.get('error')}); its front cannot be decided"
            )
        runs.setdefault(key, {})[str(seed)] = {
            "val_acc": float(record["val_acc"]),
            "test_acc": record.get("test_acc"),
            "val_curve": [float(p["val_acc"]) for p in record["curve"]],
        }
        done[0] += 1
        study.set_user_attr(ATTR, state)  # stored at once: a stopped run resumes here
        return 100.0 * float(record["val_acc"])

    bounds = [trial_cost_bounds(t.user_attrs, plan.objectives) for t in candidates]
    low = [b[0] for b in bounds]
    high = [b[1] for b in bounds]
    if "latency" in plan.objectives:  # the intervals compared (None: too few repeats)
        k = cost_objectives(plan.objectives).index("latency")
        state["latency_interval"] = {
            str(t.number): [b[0][k], b[1][k]] if math.isfinite(b[1][k]) else None
            for t, b in zip(candidates, bounds)
        }
    first = [[] for _ in candidates]
    result = sequential_front(low, first, draw, rule, cost_high=high)
    decision = result.decision
    state["decision"] = {
        "looks": result.looks,
        "status": {str(t.number): decision.status[i] for i, t in enumerate(candidates)},
        "dominated_by": {
            str(t.number): [candidates[j].number for j in decision.dominated_by(i)]
            for i, t in enumerate(candidates)
        },
        "undecided_with": {
            str(t.number): [candidates[j].number for j in decision.undecided_with(i)]
            for i, t in enumerate(candidates)
        },
    }
    study.set_user_attr(ATTR, state)
    return state
