"""Sequential seeds: a sweep that adds seeds only where its comparisons are still undecided.

``spectrum sweep --seeds 3 --until-decided --max-seeds 12`` trains every configuration with
seeds 0..2, then looks: a configuration that enters a comparison still undecided (see
:mod:`spectrum.stats.undecided`) gets the next ``step`` seeds, the others keep theirs.
Looks follow the :class:`~spectrum.records.SeedSchedule` stored on the study (at 3, 6, 9, 12
seeds here), and the report splits its level over all of them (Bonferroni over looks; Holm
within each), so looking after every round does not inflate the error rates whatever is stopped
when. The schedule and the margin are fixed when the study is made: they are part of its
fingerprint.

The set of grid points is a pure function of the stored trials (:func:`scheduled_points`): the
rounds are replayed from the results every time, so a sweep resumes after ``kill -9`` and any
number of workers agree on the next round. A worker computes it only once the current round is
finished (no trial queued or running); two workers that do so at once queue the same points,
and the sweep's ownership rule runs each point once. A round is finished when each of its points
is: a trial that failed or diverged is finished but unusable, and the look tests the pairs
present (the report states the seeds lost), so one lost trial never holds the study at an
earlier look.
"""

from __future__ import annotations

import optuna

from ..net.segments import segments_label
from ..records import is_finished
from .grid import GridPoint, SweepPlan


def finished_seed_frame(study: optuna.Study):
    """The usable trials (the report's frame) of the finished grid points."""
    from ..stats.frames import trial_frame, usable_sweep  # pandas and scipy: only here

    return usable_sweep(trial_frame(study))


def study_plan(study: optuna.Study):
    """The report's :class:`~spectrum.stats.looks.Plan` of this study, as the
    sweep's looks see it: every round up to the look is finished (nothing pending below it), so
    a look over a lost trial tests the pairs present, as the report replays it."""
    from ..stats.looks import plan_of

    return plan_of(study.user_attrs, pending=frozenset())


def scheduled_points(plan: SweepPlan, study: optuna.Study) -> list[GridPoint]:
    """The grid points the sweep runs as far as its finished rounds decide, in grid order.

    A fixed sweep: every point. A sequential one: every configuration at the first look's seeds,
    then, for each look whose round is finished, the next round's seeds for the configurations
    still undecided at that look; the rounds stop at the first look not yet finished, when
    nothing is undecided, or at the schedule's last look.
    """
    if plan.schedule is None:
        return plan.points()
    from ..stats.undecided import undecided_configurations

    looks = plan.schedule.looks
    seeds_of = {configuration: looks[0] for configuration in plan.configurations()}
    finished = {
        trial.user_attrs.get("grid_key")
        for trial in study.get_trials(deepcopy=False)
        if is_finished(trial)
    }
    usable = None
    report_plan = study_plan(study)
    for look, next_look in zip(looks, looks[1:]):
        points = _points(seeds_of)
        if any(point.key not in finished for point in points):
            return points
        if usable is None:
            usable = finished_seed_frame(study)
        seen = usable[usable["seed"] < look] if not usable.empty else usable
        undecided = undecided_configurations(seen, report_plan, plan.match)
        growing = [
            configuration
            for configuration, n in seeds_of.items()
            if n == look and _name(configuration) in undecided
        ]
        if not growing:
            return points
        for configuration in growing:
            seeds_of[configuration] = next_look
    return _points(seeds_of)


def _name(configuration) -> tuple[str, str, str, bool]:
    segments, order, activation, residual = configuration
    return (segments_label(segments), order, activation, bool(residual))


def _points(seeds_of: dict) -> list[GridPoint]:
    return [
        GridPoint(*configuration, seed)
        for configuration, n in seeds_of.items()
        for seed in range(n)
    ]
