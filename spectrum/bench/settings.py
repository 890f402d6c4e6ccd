"""What ``spectrum bench train`` measures (:class:`BenchSettings`) and the ways it runs the engine
(:class:`EngineRun`): the plain data that the measurement (:mod:`spectrum.bench.train`), the
plain PyTorch loop (:mod:`spectrum.bench.reference`) and the output
(:mod:`spectrum.bench.train_report`) share."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..device import check_precision, resolve_precision
from ..engine.train import TrainConfig
from ..errors import SpecError
from ..net.segments import Segments


@dataclass(frozen=True)
class BenchSettings:
    """What ``spectrum bench train`` measures and how."""

    segments: tuple[Segments, ...] = (1, 4, 32, "C")
    batch_size: int = TrainConfig.batch_size
    warmup: int = 5
    steps: int = 5  # per block and side
    blocks: int = 10
    matmul_size: int = 2048
    matmul_repeats: int = 5
    compile: bool = False
    precision: str = "auto"  # the engine's, as in TrainConfig; the reference is always float32

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
