"""Study files: every shipped study loads and runs as a one-epoch synthetic version."""

from pathlib import Path

import optuna
import pytest
import torch

from spectrum.errors import SpecError
from spectrum.study.studyfile import load_study
from spectrum.study.sweep import run_sweep

STUDIES = sorted((Path(__file__).parent.parent / "studies").glob("*.toml"))
SMOKE = [
    "data.name=synthetic",
    "data.synthetic_train=192",
    "data.synthetic_test=32",
    "train.epochs=1",
    "train.batch_size=64",
    "train.train_subset=0",
    "sweep.seeds=1",
    "latency.enabled=false",
]


def test_the_six_studies_ship():
    assert {p.stem for p in STUDIES} >= {
        "fig10-activation",
        "fig9-residual",
        "op-order",
        "spectrum-matched-params",
        "spectrum-matched-flops",
        "activation-depth",
    }


@pytest.mark.parametrize("path", STUDIES, ids=lambda p: p.stem)
def test_each_study_runs_one_synthetic_epoch(path):
    study = load_study(path, SMOKE)
    assert study.name == path.stem
    if study.kind != "sweep":
        pytest.skip("search studies are covered in test_search.py")
    ran = run_sweep(study.sweep, study.name, optuna.storages.InMemoryStorage(), torch.device("cpu"))
    trials = ran.get_trials()
    assert len(trials) == len(study.sweep.points())
    assert all(t.state.name == "COMPLETE" for t in trials)


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text, message",
    [
        ("[train]\nepoch = 3\n", "bad.toml [train]: unknown key 'epoch'"),
        ('[train]\nepochs = "three"\n', "[train].epochs must be an integer, got 'three'"),
        ("[sweep]\nsegments = [0]\n", "[sweep].segments"),
        ('[sweep]\nactivations = ["tanh"]\n', "[sweep].activations: 'tanh' is not one of"),
        ('[study]\nkind = "grid"\n', "[study].kind: 'grid' is not one of"),
        ('[studdy]\nname = "x"\n', "unknown section or key 'studdy'"),
        ("[sweep\n", "is not valid TOML"),
        ('[data]\nname = "mnist9"\n', "mnist9"),
        ("[train]\nepochs = 0\n", "bad.toml [train]: epochs must be >= 1"),
        ('[train]\nprecision = "half"\n', "bad.toml [train]: precision 'half' is not one of"),
    ],
)
def test_bad_study_files_name_the_key_and_file(tmp_path, text, message):
    with pytest.raises(SpecError) as error:
        load_study(write(tmp_path, text))
    assert message in str(error.value) and "\n" not in str(error.value)


def test_overrides_apply_and_are_validated(tmp_path):
    path = write(tmp_path, '[train]\nepochs = 3\n[sweep]\nsegments = ["C"]\n')
    assert load_study(path, ["epochs=5"]).sweep.train.epochs == 5
    assert load_study(path, ["sweep.seeds=4"]).sweep.seeds == 4
    with pytest.raises(SpecError, match=r"\[train\].epochs must be an integer"):
        load_study(path, ["train.epochs=abc"])
    with pytest.raises(SpecError, match="use KEY=VALUE"):
        load_study(path, ["epochs"])
    with pytest.raises(SpecError, match="unknown section 'trian'"):
        load_study(path, ["trian.epochs=2"])
