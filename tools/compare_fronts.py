"""Compare multi-objective searches run with and without the front pruner, seed by seed.

For each search seed, reads the two studies (``DIR/none-seedS`` and ``DIR/front-seedS``, each
with its study.db) and prints, as a markdown table: trials complete / pruned, epochs trained,
the study's span (first trial start to last trial end) and the sum of trial times, the hypervolume
of the accuracy/FLOPs front, and how many of the unpruned run's front configurations the pruned run
also sampled, has on its front, trained to the end, or pruned. Then the ratio of epochs and the
paired difference of hypervolume over seeds with its 95% t interval.

Hypervolume is taken in (validation accuracy in points, log10 FLOPs), so every decade of cost
weighs the same, against one reference for all runs: 1 point below the lowest final accuracy
and 0.1 decade above the largest FLOPs of any complete trial.

Then the rule replayed on each unpruned run's curves (same points, same seeds) for each final
band (``--bands``) and widening toward early epochs (``--powers``), and with the seed SD per epoch
that a study's ``--confirm`` seeds measured (``--measured-from``).

Without pruned runs (no ``DIR/front-seedS``), only the unpruned runs and the replay are printed.

Run: python tools/compare_fronts.py reports/search-front-pruning --seeds 0 1 2 3 4
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import optuna
from optuna.trial import TrialState

from spectrum.report.analysis.pareto import non_dominated
from spectrum.stats.front import hypervolume
from spectrum.stats.inference import t_interval
from spectrum.study.front_pruner import (
    BAND_POWER,
    DEFAULT_PRUNE_BAND,
    Finished,
    PruneBand,
    measured_sd,
    outrun_by,
)


def load(folder: Path) -> optuna.Study:
    storage = f"sqlite:///{folder / 'study.db'}"
    (name,) = optuna.get_all_study_names(storage)
    return optuna.load_study(study_name=name, storage=storage)


def summary(study: optuna.Study) -> dict:
    trials = study.get_trials(deepcopy=False)
    complete = [
        t
        for t in trials
        if t.state == TrialState.COMPLETE and t.user_attrs.get("status") == "complete"
    ]
    acc = np.array([100.0 * t.user_attrs["val_acc"] for t in complete])
    flops = np.array([float(t.user_attrs["flops"]) for t in complete])
    front = non_dominated(np.column_stack([acc, flops]), [True, False])
    started = [t.datetime_start for t in trials if t.datetime_start]
    ended = [t.datetime_complete for t in trials if t.datetime_complete]
    return {
        "complete": len(complete),
        "pruned": sum(t.state == TrialState.PRUNED for t in trials),
        "epochs": sum(len(t.user_attrs.get("curve") or []) for t in trials),
        "span_s": (max(ended) - min(started)).total_seconds(),
        "trial_s": sum(float(t.user_attrs.get("wall_time_s") or 0.0) for t in trials),
        "acc": acc,
        "flops": flops,
        "front": [complete[i].params for i in np.flatnonzero(front)],
        "trained": [t.params for t in complete],
        "pruned_params": [t.params for t in trials if t.state == TrialState.PRUNED],
    }


def replay(study: optuna.Study, band: PruneBand = PruneBand(), sd: dict | None = None) -> dict:
    """The front pruner's rule replayed on an unpruned run's curves, in the order it ran: which
    trials it would have cut (and after which epoch), its epochs, and its front's configurations.

    Same points and same seeds as the unpruned run, so it isolates the pruning from what the
    sampler draws after a pruned trial (which differs in a real pruned run). ``sd``: a measured
    seed SD per epoch to use instead of the band's default widening.
    """
    trials = sorted(
        (
            t
            for t in study.get_trials(deepcopy=False)
            if t.state == TrialState.COMPLETE and t.user_attrs.get("status") == "complete"
        ),
        key=lambda t: t.datetime_start,
    )
    finished: list[tuple[object, Finished]] = []
    epochs, kept = 0, []
    for t in trials:
        curve = {int(p["epoch"]): float(p["val_acc"]) for p in t.user_attrs["curve"]}
        last = max(curve)
        before = [f for end, f in finished if end < t.datetime_start]
        cut = next(
            (
                e
                for e in range(1, last)
                if outrun_by(
                    (float(t.user_attrs["flops"]),),
                    curve[e],
                    e,
                    before,
                    band.at(e, last, (sd or {}).get(e)),
                )
                is not None
            ),
            None,
        )
        epochs += cut or last
        if cut is None:
            kept.append(t)
            finished.append(
                (t.datetime_complete, Finished(t.number, (float(t.user_attrs["flops"]),), curve))
            )
    acc = np.array([100.0 * t.user_attrs["val_acc"] for t in kept])
    flops = np.array([float(t.user_attrs["flops"]) for t in kept])
    front = non_dominated(np.column_stack([acc, flops]), [True, False])
    return {
        "epochs": epochs,
        "acc": acc,
        "flops": flops,
        "front": [kept[i].params for i in np.flatnonzero(front)],
    }


def familywise_z(study: optuna.Study, alpha: float = 0.05, draws: int = 400_000) -> dict:
    """How far the Bonferroni split of the pruner's z over a trial's looks is from exact: the
    correlation across epochs of the seed deviations that a study's ``--confirm`` seeds measured
    (each run's curve minus its configuration's mean curve, per epoch over the pooled SD), and
    the z whose one-sided crossing at any look before the last has probability ``alpha`` for
    normal deviations with that correlation (simulated), next to Bonferroni's."""
    from scipy import stats

    runs = study.user_attrs["front_confirm"]["runs"]
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    deviations = []
    for number, seeds in runs.items():
        curves = [[float(p["val_acc"]) for p in trials[int(number)].user_attrs["curve"]]]
        curves += [list(r["val_curve"]) for r in seeds.values()]
        epochs = max(len(c) for c in curves)
        group = np.array([c for c in curves if len(c) == epochs])
        if len(group) > 1:
            deviations.append((group - group.mean(0)) * math.sqrt(len(group) / (len(group) - 1)))
    looks = np.vstack(deviations)[:, :-1]
    corr = np.corrcoef((looks / looks.std(0)).T)
    off = corr[~np.eye(len(corr), dtype=bool)]
    draws_max = (
        np.random.default_rng(0).multivariate_normal(np.zeros(len(corr)), corr, draws).max(1)
    )
    return {
        "runs": len(looks),
        "looks": len(corr),
        "median_abs_r": float(np.median(np.abs(off))),
        "max_abs_r": float(np.abs(off).max()),
        "z_exact": float(np.quantile(draws_max, 1 - alpha)),
        "z_bonferroni": float(stats.norm.ppf(1 - alpha / len(corr))),
    }


def compare_runs(runs: dict, seeds: list[int], ref_acc: float, ref_cost: float) -> None:
    """The table of pruned against unpruned runs, seed by seed, then epochs and hypervolume."""
    print(
        "| seed | pruner | complete | pruned | epochs | study span (s) | sum of trial times (s) "
        "| hypervolume | unpruned front's configurations: sampled / on front / trained / pruned |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for seed in seeds:
        base = runs[("none", seed)]["front"]
        for pruner in ("none", "front"):
            r = runs[(pruner, seed)]
            sampled = r["trained"] + r["pruned_params"]
            found = (
                f"{sum(p in sampled for p in base)} / {sum(p in r['front'] for p in base)} / "
                f"{sum(p in r['trained'] for p in base)} / "
                f"{sum(p in r['pruned_params'] for p in base)} of {len(base)}"
            )
            print(
                f"| {seed} | {pruner} | {r['complete']} | {r['pruned']} | {r['epochs']} | "
                f"{r['span_s']:.0f} | {r['trial_s']:.0f} | {r['hv']:.3f} | {found} |"
            )
    epochs = {p: sum(runs[(p, s)]["epochs"] for s in seeds) for p in ("none", "front")}
    span = {p: sum(runs[(p, s)]["span_s"] for s in seeds) for p in ("none", "front")}
    diffs = [runs[("front", s)]["hv"] - runs[("none", s)]["hv"] for s in seeds]
    hv_none = t_interval([runs[("none", s)]["hv"] for s in seeds])
    hv_front = t_interval([runs[("front", s)]["hv"] for s in seeds])
    d = t_interval(diffs)
    paired = (
        f"paired difference front - none {d.mean:+.3f} [{d.ci_low:+.3f}, {d.ci_high:+.3f}] "
        f"({100 * d.mean / hv_none.mean:+.1f}% of none)"
        if np.ptp(diffs) > 0
        else f"the same difference on every seed, {diffs[0]:+.3f} (no interval to draw)"
    )
    print(
        f"Epochs trained, all seeds: none {epochs['none']}, front {epochs['front']} "
        f"({epochs['none'] / epochs['front']:.2f}x fewer). Study spans: none {span['none']:.0f} s, "
        f"front {span['front']:.0f} s ({span['none'] / span['front']:.2f}x)."
    )
    print(
        f"Hypervolume (reference: {ref_acc:.2f} points, 10^{ref_cost:.2f} FLOPs): none "
        f"{hv_none.mean:.3f} [{hv_none.ci_low:.3f}, {hv_none.ci_high:.3f}], front "
        f"{hv_front.mean:.3f} [{hv_front.ci_low:.3f}, {hv_front.ci_high:.3f}] (95% t over "
        f"{len(seeds)} seeds); {paired}."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--bands",
        type=float,
        nargs="+",
        default=[DEFAULT_PRUNE_BAND],
        help="replayed final-epoch bands (--prune-band)",
    )
    parser.add_argument(
        "--powers",
        type=float,
        nargs="+",
        default=[BAND_POWER],
        help="replayed widenings toward early epochs, (E / k) ** power (0: the same band)",
    )
    parser.add_argument(
        "--measured-from",
        type=Path,
        help="also replay with the seed SD per epoch measured by this study's --confirm seeds",
    )
    parser.add_argument(
        "--look-correlation",
        action="store_true",
        help="also print how far Bonferroni over the looks is from exact (--measured-from)",
    )
    parser.add_argument(
        "--replay-seeds", type=int, nargs="*", help="unpruned runs to replay (default: --seeds)"
    )
    args = parser.parse_args()
    pruned = all((args.folder / f"front-seed{seed}").exists() for seed in args.seeds)
    runs = {
        (pruner, seed): summary(load(args.folder / f"{pruner}-seed{seed}"))
        for seed in args.seeds
        for pruner in (("none", "front") if pruned else ("none",))
    }
    ref_acc = min(r["acc"].min() for r in runs.values()) - 1.0
    ref_cost = math.log10(max(r["flops"].max() for r in runs.values())) + 0.1
    for r in runs.values():
        r["hv"] = hypervolume(r["acc"], np.log10(r["flops"]), ref_acc, ref_cost)
    if pruned:
        compare_runs(runs, args.seeds, ref_acc, ref_cost)
    else:
        print("No pruned runs (front-seedS): the unpruned runs, then the replay only.")
        for seed in args.seeds:
            r = runs[("none", seed)]
            print(
                f"  seed {seed}: {r['complete']} complete, {r['epochs']} epochs, "
                f"{len(r['front'])} on the front, hypervolume {r['hv']:.3f}"
            )
    print()
    print("Replay of the rule on each unpruned run (same points, same seeds):")
    rules = [
        (f"band {b:g}, power {p:g}", PruneBand(b, p), None) for b in args.bands for p in args.powers
    ]
    if args.measured_from is not None:
        sd = measured_sd(load(args.measured_from))
        label = ", ".join(f"{k}: {100 * v:.2f}" for k, v in sorted(sd.items()))
        rules.append((f"measured seed SD (pp, epoch: SD) {label}", PruneBand(), sd))
    if args.look_correlation and args.measured_from is not None:
        f = familywise_z(load(args.measured_from))
        print(
            f"Seed deviations across the {f['looks']} looks ({f['runs']} runs): median |r| "
            f"{f['median_abs_r']:.2f}, largest {f['max_abs_r']:.2f}; z for a 5% crossing at any "
            f"look {f['z_exact']:.2f} (simulated with that correlation), Bonferroni "
            f"{f['z_bonferroni']:.2f}."
        )
    for name, band, sd in rules:
        totals = {"epochs": 0, "base": 0, "kept": 0, "front": 0, "hv": []}
        for seed in args.seeds if args.replay_seeds is None else args.replay_seeds:
            base = runs.get(("none", seed)) or summary(load(args.folder / f"none-seed{seed}"))
            base["hv"] = hypervolume(base["acc"], np.log10(base["flops"]), ref_acc, ref_cost)
            r = replay(load(args.folder / f"none-seed{seed}"), band, sd)
            hv = hypervolume(r["acc"], np.log10(r["flops"]), ref_acc, ref_cost)
            print(
                f"  {name}, seed {seed}: {r['epochs']} of {base['epochs']} epochs "
                f"({base['epochs'] / r['epochs']:.2f}x fewer), {len(r['acc'])} of "
                f"{base['complete']} trained to the end, front "
                f"{sum(p in r['front'] for p in base['front'])} of {len(base['front'])} kept, "
                f"hypervolume {hv:.3f} vs {base['hv']:.3f}"
            )
            totals["epochs"] += r["epochs"]
            totals["base"] += base["epochs"]
            totals["kept"] += sum(p in r["front"] for p in base["front"])
            totals["front"] += len(base["front"])
            totals["hv"].append(hv - base["hv"])
        print(
            f"  {name}, all: {totals['epochs']} of {totals['base']} epochs "
            f"({totals['base'] / totals['epochs']:.2f}x fewer), front {totals['kept']} of "
            f"{totals['front']} kept, hypervolume change mean {np.mean(totals['hv']):+.3f}, "
            f"worst seed {min(totals['hv']):+.3f}"
        )


if __name__ == "__main__":
    main()
