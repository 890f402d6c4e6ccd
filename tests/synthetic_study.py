"""A small synthetic sweep study with every field a report draws (shared by report-file tests)."""

from __future__ import annotations

import optuna
from optuna.trial import create_trial

from spectrum.net.xception import PROXY_WIDTHS

SEGMENTS = ("1", "4", "C")
ACCURACY = {"1": 0.90, "4": 0.93, "C": 0.91}
SEED_EFFECT = (0.003, -0.002, 0.0)


def sweep_record(segments: str, seed: int, epochs: int = 3) -> dict:
    test_acc = round(ACCURACY[segments] + SEED_EFFECT[seed] + 0.0007 * seed, 5)
    size = {"1": 9, "4": 3, "C": 1}[segments]
    return {
        "kind": "sweep",
        "grid_key": f"g={segments}|depthwise-first|act=none|residual=on|seed={seed}",
        "segments": segments,
        "order": "depthwise-first",
        "activation": "none",
        "residual": True,
        "seed": seed,
        "match": "none",
        "width_multiplier": 1.0,
        "params": 100_000 * size,
        "flops": 2_000_000 * size,
        "activations": 65_344,
        "latency_ms": 2.0 + size,
        "train_step_ms": 8.0 + size,
        "latency_batch": 64,
        "latency_precision": "float32",
        "device": "cpu",
        "precision": "float32",
        "curve": [
            {
                "epoch": e,
                "train_loss": 2.0 / e,
                "val_acc": test_acc - 0.05 / e,
                "seconds": 1.0,
                "images_per_s": 1000.0 / size,
            }
            for e in range(1, epochs + 1)
        ],
        "val_acc": test_acc - 0.004,
        "test_acc": test_acc,
        "status": "complete",
        "error": None,
        "wall_time_s": 5.0,
        "dataset": "synthetic",
        "train": {"epochs": epochs, "batch_size": 64, "lr": 0.05},
        "versions": {"optuna": optuna.__version__},
        "net": {"preset": "proxy-28", "widths": dict(PROXY_WIDTHS), "flows": {}},
    }


def synthetic_sweep(storage=None, name: str = "synthetic") -> optuna.Study:
    """Three g values x three seeds, all complete, in ``storage`` (default: in memory)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage=storage, study_name=name, direction="maximize")
    for key, value in {
        "kind": "sweep",
        "command": "spectrum sweep --segments 1,4,C --seeds 3 --dataset synthetic",
        "dataset": "synthetic",
        "train": {"epochs": 3, "batch_size": 64, "lr": 0.05},
        "device": "cpu",
        "versions": {"optuna": optuna.__version__},
        "grid": {
            "segments": list(SEGMENTS),
            "orders": ["depthwise-first"],
            "activations": ["none"],
            "residual": [True],
            "seeds": [0, 1, 2],
            "match": "none",
            "preset": "proxy-28",
        },
    }.items():
        study.set_user_attr(key, value)
    for segments in SEGMENTS:
        for seed in range(3):
            attrs = sweep_record(segments, seed)
            study.add_trial(create_trial(value=attrs["val_acc"], user_attrs=attrs))
    return study
