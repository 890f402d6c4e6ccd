"""The ``auto`` preset: proxy-28s for a new study on 28 px images, and a study's own preset on
resume, including studies stored before auto meant proxy-28s (their fingerprints say ``auto``)."""

from dataclasses import replace

import optuna
import pytest

from spectrum.data import DataConfig
from spectrum.errors import SpecError
from spectrum.study.resume import changed_settings, resolved_preset
from spectrum.study.sweep import SweepPlan, open_sweep_study, with_study_preset

optuna.logging.set_verbosity(optuna.logging.WARNING)
PLAN = SweepPlan(segments=(1, "C"), data=DataConfig(name="synthetic"))


def test_auto_resolves_by_image_size_for_a_new_study_and_keeps_an_explicit_preset():
    assert resolved_preset("auto", None, 28) == "proxy-28s"
    assert resolved_preset("auto", None, 32) == "proxy-32"
    assert resolved_preset("proxy-28", None, 28) == "proxy-28"
    assert resolved_preset("proxy-28", "proxy-28s", 28) == "proxy-28"  # refused on opening


def test_a_new_sweep_stores_the_resolved_preset():
    storage = optuna.storages.InMemoryStorage()
    plan = with_study_preset(PLAN, "s", storage)
    assert plan.preset == "proxy-28s"
    study = open_sweep_study(plan, "s", storage)
    assert study.user_attrs["fingerprint"]["preset"] == "proxy-28s"
    assert with_study_preset(PLAN, "s", storage).preset == "proxy-28s"  # its own, on resume


def legacy_study(storage) -> None:
    """A study made before auto was stored resolved: its fingerprint says auto (= proxy-28)."""
    study = optuna.create_study(study_name="old", storage=storage, direction="maximize")
    study.set_user_attr("fingerprint", PLAN.fingerprint())
    study.set_user_attr("grid_queued", True)
    assert study.user_attrs["fingerprint"]["preset"] == "auto"


def test_a_legacy_auto_study_resumes_on_proxy_28_with_auto_or_proxy_28_and_refuses_28s():
    storage = optuna.storages.InMemoryStorage()
    legacy_study(storage)
    resumed = with_study_preset(PLAN, "old", storage)
    assert resumed.preset == "proxy-28"
    open_sweep_study(resumed, "old", storage)  # no refusal
    open_sweep_study(replace(PLAN, preset="proxy-28"), "old", storage)
    with pytest.raises(SpecError, match="different preset"):
        open_sweep_study(replace(PLAN, preset="proxy-28s"), "old", storage)


def test_a_stored_auto_means_proxy_28_only_when_the_image_size_is_known():
    stored = {"preset": "auto", "space": {"preset": "auto"}}
    wanted = {"preset": "proxy-28", "space": {"preset": "proxy-28"}}
    assert changed_settings(stored, wanted, 28) == []
    assert changed_settings(stored, wanted) == ["preset", "space"]
    assert changed_settings(stored, {**wanted, "preset": "proxy-32"}, 32) == ["space"]


def test_a_legacy_auto_search_resumes_on_proxy_28_and_a_new_one_gets_proxy_28s():
    from spectrum.study.plan import SearchPlan
    from spectrum.study.search import open_search_study
    from spectrum.study.search import with_study_preset as search_preset
    from spectrum.study.space import SearchSpace

    plan = SearchPlan(space=SearchSpace(), data=DataConfig(name="synthetic"), latency=None)
    storage = optuna.storages.InMemoryStorage()
    assert search_preset(plan, "new", storage).space.preset == "proxy-28s"
    old = optuna.create_study(study_name="old", storage=storage, directions=plan.directions)
    old.set_user_attr("search_fingerprint", plan.fingerprint())  # space preset: auto
    resumed = search_preset(plan, "old", storage)
    assert resumed.space.preset == "proxy-28"
    open_search_study(resumed, "old", storage)  # no refusal
    with pytest.raises(SpecError, match="different space"):
        open_search_study(
            search_preset(replace(plan, space=SearchSpace(preset="proxy-28s")), "old", storage),
            "old",
            storage,
        )
