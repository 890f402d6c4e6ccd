"""What each benchmark measures and how: :class:`BenchSettings` (``spectrum bench train``),
:class:`SweepBenchSettings` (``spectrum bench sweep``) and :class:`LatencyBenchSettings`
(``spectrum bench latency``), and the ways ``bench train`` runs the engine (:class:`EngineRun`).

Every setting the user may give is declared once, on its field (``metadata=option(help)``, see
:mod:`spectrum.fields`): ``spectrum bench``'s flags are made from these fields
(:func:`~spectrum.fields.options_of`) and turned back into the settings with
:func:`~spectrum.fields.build`. A setting that is the same option as a sweep's or the training's
(segments' parsing, batch size, precision, preset, the dataset) takes that option's definition
(:func:`shared`), with its own help where its meaning differs. The measurements
(:mod:`spectrum.bench.train`, :mod:`.sweep`, :mod:`.latency`), the plain PyTorch loop
(:mod:`spectrum.bench.reference`) and the reports share these plain data.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..cost.table import spectrum_configs
from ..data import DEFAULT_VAL_SIZE, DataConfig
from ..device import check_precision, resolve_precision
from ..engine.train import TrainConfig
from ..errors import SpecError
from ..fields import option
from ..net.presets import get_preset
from ..net.segments import Segments, parse_segments, segments_label
from ..net.xception import NetConfig, check_config
from ..options import MATCH_CHOICES, parse_choice
from ..study.grid import SweepPlan, sweep_plan


def shared(cls: type, name: str, **changes) -> dict:
    """The option of field ``name`` of config ``cls`` as another field's ``metadata``: one parser
    and one help for the same option, ``changes`` (``help``, ``cli_type``, ...) where it differs."""
    meta = next(f for f in dataclasses.fields(cls) if f.name == name).metadata["option"]
    return {"option": {**meta, **changes}}


def segments_option(help: str | None = None) -> dict:
    """A list of g as a sweep's ``--segments`` takes it (``1,4,C``), with the benchmark's help."""
    return shared(SweepPlan, "segments", **({"help": help} if help else {}))


@dataclass(frozen=True)
class BenchSettings:
    """What ``spectrum bench train`` measures and how."""

    segments: tuple[Segments, ...] = field(default=(1, 4, 32, "C"), metadata=segments_option())
    batch_size: int = field(
        default=TrainConfig.batch_size, metadata=shared(TrainConfig, "batch_size")
    )
    warmup: int = field(default=5, metadata=option("Untimed warm-up steps per side."))
    steps: int = field(  # per block and side
        default=5, metadata=option("Steps per block and side (a block is timed as a whole).")
    )
    blocks: int = field(
        default=10,
        metadata=option(
            "Timed blocks per side, interleaved engine / reference; images/s is the median over "
            "blocks."
        ),
    )
    compile: bool = field(
        default=False,
        metadata=option(
            "Also measure the engine with torch.compile (a separate run, with its own reference).",
            decls=("--compile",),
        ),
    )
    matmul_size: int = field(
        default=2048, metadata=option("Size n of the n x n matmul that sets the peak for MFU.")
    )
    matmul_repeats: int = 5
    # the engine's, as in TrainConfig; the reference is always float32
    precision: str = field(default="auto", metadata=shared(TrainConfig, "precision"))
    preset: str = field(default="auto", metadata=shared(SweepPlan, "preset"))

    def __post_init__(self) -> None:
        if not self.segments:
            raise SpecError("give at least one g to benchmark")
        for name in ("batch_size", "steps", "blocks", "matmul_size", "matmul_repeats"):
            if getattr(self, name) < 1:
                raise SpecError(f"{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
        if self.warmup < 0:
            raise SpecError(f"warmup must be >= 0, got {self.warmup}")
        check_precision(self.precision)

    @property
    def steps_per_side(self) -> int:
        return self.warmup + self.blocks * self.steps

    @property
    def images_per_run(self) -> int:
        return self.steps_per_side * self.batch_size

    def train_config(self, run: EngineRun) -> TrainConfig:
        """The engine's default recipe, for exactly one run of warm-up plus timed steps."""
        return TrainConfig(
            epochs=1,
            batch_size=self.batch_size,
            compile=run.compile,
            precision=run.precision,
            train_subset=self.images_per_run,
        )


@dataclass(frozen=True)
class EngineRun:
    """One way of running the engine, timed against its own interleaved reference."""

    name: str  # spectrum (as sweeps run it) | float32 | compiled: the prefix of its columns
    precision: str  # resolved: float32 | bfloat16
    compile: bool = False


def engine_runs(settings: BenchSettings, device: torch.device) -> list[EngineRun]:
    """The engine as sweeps run it, then float32 (if that was not it) and compiled (if asked)."""
    precision = resolve_precision(settings.precision, device)
    runs = [EngineRun("spectrum", precision)]
    if precision != "float32":
        runs.append(EngineRun("float32", "float32"))
    if settings.compile:
        runs.append(EngineRun("compiled", precision, compile=True))
    return runs


@dataclass(frozen=True)
class SweepBenchSettings:
    """The grid both modes of ``spectrum bench sweep`` run, how many workers packing uses, and
    how often each mode runs."""

    segments: tuple[Segments, ...] = field(
        default=(1, 4, "C"), metadata=segments_option("Comma-separated g values of the grid.")
    )
    seeds: int = field(default=2, metadata=option("Seeds per g (the grid has g x seeds trials)."))
    epochs: int = field(default=1, metadata=shared(TrainConfig, "epochs"))
    train_subset: int = field(
        default=5000, metadata=option("Train each trial on the first N images.")
    )
    batch_size: int = field(
        default=TrainConfig.batch_size, metadata=shared(TrainConfig, "batch_size")
    )
    val_size: int = field(default=DEFAULT_VAL_SIZE, metadata=shared(DataConfig, "val_size"))
    jobs: str = field(  # packed workers, as --jobs of spectrum sweep (auto: one per core)
        default="auto",
        metadata=option(
            "Workers of the packed mode (cores/N threads each); auto: one per core, as spectrum "
            "sweep --jobs auto."
        ),
    )
    repeats: int = field(
        default=3,
        metadata=option(
            "Runs per mode, alternating sequential / packed; trials/h is their median."
        ),
    )
    precision: str = field(default="auto", metadata=shared(TrainConfig, "precision"))
    preset: str = field(default="auto", metadata=shared(SweepPlan, "preset"))
    dataset: str = field(  # the dataset's name as --dataset gives it
        default=DataConfig.name, metadata=shared(DataConfig, "name")
    )
    data_dir: str | None = field(
        default=None, metadata=shared(DataConfig, "data_dir", cli_type=Path | None)
    )

    def __post_init__(self) -> None:
        if not self.segments:
            raise SpecError("give at least one g to sweep")
        for name in ("seeds", "epochs", "train_subset", "batch_size", "repeats"):
            if getattr(self, name) < 1:
                raise SpecError(f"{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
        if self.val_size < 0:
            raise SpecError(f"val-size must be >= 0, got {self.val_size}")
        check_precision(self.precision)

    def plan(self) -> SweepPlan:
        """The sweep that :meth:`argv` describes (its fingerprint must equal the workers')."""
        return sweep_plan(
            {
                "segments": self.segments,
                "seeds": self.seeds,
                "preset": self.preset,
                "epochs": self.epochs,
                "batch_size": self.batch_size,
                "train_subset": self.train_subset,
                "precision": self.precision,
                "dataset": self.dataset,
                "data_dir": self.data_dir,
                "val_size": self.val_size,
            }
        )

    def argv(self, device: torch.device, study: str, storage: str, out: Path) -> list[str]:
        """``spectrum sweep`` arguments of a worker (``--jobs 1`` is added by the workers)."""
        flags = {
            "--segments": ",".join(segments_label(g) for g in self.segments),
            "--seeds": self.seeds,
            "--epochs": self.epochs,
            "--train-subset": self.train_subset,
            "--batch-size": self.batch_size,
            "--val-size": self.val_size,
            "--preset": self.preset,
            "--precision": self.precision,
            "--dataset": self.dataset,
            "--data-dir": self.data_dir,
            "--device": device,
            "--study": study,
            "--storage": storage,
            "--out": out,
        }
        args = ["sweep"]
        for flag, value in flags.items():
            if value is not None:
                args += [flag, str(value)]
        return [*args, "--no-report"]


def _reference(value: object, where: str) -> str:
    """One g as its label (``1``, ``C``)."""
    return segments_label(parse_segments(value))  # type: ignore[arg-type]


@dataclass(frozen=True)
class LatencyBenchSettings:
    """Which nets ``spectrum bench latency`` times, how, and against which g."""

    segments: tuple[Segments, ...] = field(
        default=(1, 2, 4, 8, 16, 32, "C"),
        metadata=segments_option("Comma-separated g values to time."),
    )
    match: str = field(  # widths matched to the g = C net's budget
        default="flops",
        metadata=shared(
            SweepPlan,
            "match",
            help="Widths matched to the g=C net's budget: none | params | flops.",
        ),
    )
    reference: str = field(
        default="1", metadata=option("The g every other g is compared with.", parse=_reference)
    )
    rounds: int = field(
        default=15, metadata=option("Interleaved rounds (the paired units of the intervals).")
    )
    repeats: int = field(  # timed passes per g and round; the round's value is their median
        default=5, metadata=option("Timed forward passes per g and round (their median).")
    )
    warmup: int = field(
        default=2, metadata=option("Untimed passes per g and round before the timed ones.")
    )
    batch_size: int = field(default=64, metadata=option("Images per timed batch."))
    width: float = field(  # the g = C net's width multiplier (the budget's reference)
        default=1.0, metadata=option("Width multiplier of the g=C net (the budget).")
    )
    preset: str = field(default="proxy-28", metadata=option("proxy-28 | proxy-32 | xception"))
    precision: str = field(
        default="float32",
        metadata=shared(TrainConfig, "precision", help="auto | float32 | bfloat16"),
    )

    def __post_init__(self) -> None:
        labels = [segments_label(g) for g in self.segments]
        if len(set(labels)) < 2:
            raise SpecError("--segments: give at least two different g to compare")
        if self.reference not in labels:
            raise SpecError(
                f"--reference {self.reference}: not one of --segments {','.join(labels)}; "
                "give one of them"
            )
        parse_choice(self.match, MATCH_CHOICES, "--match")
        get_preset(self.preset)
        if self.rounds < 3:
            raise SpecError(f"--rounds must be >= 3 (intervals over rounds), got {self.rounds}")
        for name in ("repeats", "batch_size"):
            if getattr(self, name) < 1:
                raise SpecError(
                    f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}"
                )
        if self.warmup < 0:
            raise SpecError(f"--warmup must be >= 0, got {self.warmup}")
        if not self.width > 0:
            raise SpecError(f"--width must be > 0, got {self.width}")
        check_precision(self.precision)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(segments_label(g) for g in self.segments)

    def configs(self) -> list[NetConfig]:
        base = NetConfig.uniform("C", preset=self.preset, width_multiplier=self.width)
        configs = spectrum_configs(base, self.segments, self.match)
        for config in configs:
            check_config(config)
        return configs
