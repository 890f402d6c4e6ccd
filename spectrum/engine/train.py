"""The training engine: one model, one dataset, one budget; returns curves and accuracies.

The whole dataset lives as a uint8 tensor on the training device. Each step slices a batch from a
device-side permutation, normalizes it, and applies augmentation to the whole batch at once (random
crop with zero padding via one gather, horizontal flip where the dataset allows it): there is no
per-sample Python in the hot loop. Optimizer: SGD (fused) with Nesterov momentum, a one-cycle or
cosine schedule, label smoothing, and weight decay on conv/linear weights only (not BN or biases).
Precision follows :func:`spectrum.device.resolve_precision` (bf16 autocast where the hardware has
native bf16, else float32); the precision used is part of the result.

A loss that turns NaN/inf ends the run as ``diverged``; running out of GPU memory ends it as
``failed``; both are returned, not raised, so that a sweep goes on.

One trial can span several processes (DDP under torchrun): data made by
:func:`spectrum.engine.device_data.device_data` carries the run's
:class:`~spectrum.engine.distributed.Ranks`, and the same loop then trains this rank's share of
every global batch (that module says how a run at world size W reproduces one process).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch
from torch import Tensor, nn

from ..device import (
    PRECISIONS,
    autocast,
    check_precision,
    prepare_model,
    resolve_precision,
    synchronize,
)
from ..errors import SpecError
from ..fields import option
from ..options import parse_choice
from .device_data import DeviceData

SCHEDULES = ("onecycle", "cosine")


@dataclass(frozen=True)
class TrainConfig:
    """The training budget and recipe of one trial."""

    epochs: int = field(default=4, metadata=option("Training epochs per trial."))
    batch_size: int = field(default=128, metadata=option("Training batch size."))
    lr: float = field(default=0.1, metadata=option("Peak learning rate (SGD, Nesterov momentum)."))
    momentum: float = 0.9
    weight_decay: float = field(
        default=5e-4, metadata=option("Weight decay (not on BN or biases).")
    )
    label_smoothing: float = 0.1
    schedule: str = field(
        default="onecycle",
        metadata=option(
            "onecycle | cosine", parse=lambda v, where: parse_choice(v, SCHEDULES, where)
        ),
    )
    warmup_fraction: float = 0.15
    augment: bool = field(
        default=False,
        metadata=option(
            "Random crop (and flip where sensible) on the device.",
            decls=("--augment/--no-augment",),
        ),
    )
    compile: bool = field(
        default=False,
        metadata=option("torch.compile the model for training.", decls=("--compile",)),
    )
    eval_batch_size: int = 1024
    # train on only the first N images; None or 0: all of them
    train_subset: int | None = field(
        default=None, metadata=option("Train on only the first N training images.")
    )
    precision: str = field(  # auto | float32 | bfloat16 (see spectrum.device)
        default="auto",
        metadata=option(
            "auto (bfloat16 where the GPU or CPU computes it natively, else float32) | float32 | "
            "bfloat16",
            parse=lambda v, where: parse_choice(v, PRECISIONS, where),
        ),
    )

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "eval_batch_size"):
            if getattr(self, name) < 1:
                raise SpecError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise SpecError(f"lr must be > 0, got {self.lr}")
        if self.weight_decay < 0 or not 0 <= self.label_smoothing < 1:
            raise SpecError("weight_decay must be >= 0 and label_smoothing in [0, 1)")
        if self.schedule not in SCHEDULES:
            raise SpecError(f"schedule {self.schedule!r} is not one of: {', '.join(SCHEDULES)}")
        if self.train_subset is not None and self.train_subset < 0:
            raise SpecError(f"train_subset must be >= 0 (0 = all images), got {self.train_subset}")
        check_precision(self.precision)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class EpochRecord:
    epoch: int
    train_loss: float
    val_acc: float
    seconds: float
    images_per_s: float


@dataclass
class TrainResult:
    status: str  # complete | diverged | failed
    curve: list[EpochRecord] = field(default_factory=list)
    val_acc: float | None = None
    test_acc: float | None = None
    error: str | None = None
    seconds: float = 0.0
    precision: str = "float32"  # the precision actually used (auto resolved)


def random_crop(
    images: Tensor,
    padding: int,
    generator: torch.Generator,
    *,
    global_batch: int | None = None,
    offset: int = 0,
) -> Tensor:
    """Pad with zeros and crop back to size at an independent random offset per image.

    With ``global_batch``, the offsets are drawn for that many images and these images take rows
    ``offset:offset + len(images)`` of them (a rank's part of a distributed run's batch).
    """
    if padding <= 0:
        return images
    n, _, height, width = images.shape
    padded = nn.functional.pad(images, (padding,) * 4)
    shifts = torch.randint(
        0, 2 * padding + 1, (2, global_batch or n), device=images.device, generator=generator
    )[:, offset : offset + n]
    rows = torch.arange(height, device=images.device)[None, :] + shifts[0][:, None]
    cols = torch.arange(width, device=images.device)[None, :] + shifts[1][:, None]
    batch = torch.arange(n, device=images.device)[:, None, None]
    cropped = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]
    return cropped.permute(0, 3, 1, 2)


def random_flip(
    images: Tensor,
    generator: torch.Generator,
    *,
    global_batch: int | None = None,
    offset: int = 0,
) -> Tensor:
    """Mirror about half the images; ``global_batch`` and ``offset`` as for :func:`random_crop`."""
    n = images.shape[0]
    flip = torch.rand(global_batch or n, device=images.device, generator=generator) < 0.5
    flip = flip[offset : offset + n]
    return torch.where(flip[:, None, None, None], images.flip(3), images)


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Weight decay on conv and linear weights; none on BatchNorm parameters and biases."""
    decay, no_decay = [], []
    for parameter in model.parameters():
        if parameter.requires_grad:
            (decay if parameter.ndim > 1 else no_decay).append(parameter)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def lr_factor(step: int, total: int, config: TrainConfig) -> float:
    """Multiplier of the peak lr at ``step``: linear warm-up, then linear (one-cycle) or cosine."""
    warmup = max(1, int(total * config.warmup_fraction))
    if config.schedule == "onecycle":
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))
    return 0.5 * (1 + math.cos(math.pi * min(step, total) / total))


@torch.inference_mode()
def evaluate(
    model: nn.Module,
    data: DeviceData,
    images: Tensor,
    labels: Tensor,
    batch_size: int,
    device: torch.device,
    precision: str = "float32",
) -> float:
    model.eval()
    correct = torch.zeros((), dtype=torch.long, device=images.device)
    for start in range(0, len(images), batch_size):
        with autocast(device, precision):
            logits = model(data.normalize(images[start : start + batch_size]))
        correct += (logits.argmax(1) == labels[start : start + batch_size]).sum()
    if data.ranks is not None:  # these images are this rank's shard
        return data.ranks.accuracy(correct, len(images))
    return correct.item() / max(1, len(images))


def is_out_of_memory(error: BaseException) -> bool:
    return isinstance(error, torch.OutOfMemoryError) or "out of memory" in str(error).lower()


StepCallback = Callable[[int, int, int], None]  # (epoch, step in epoch, steps per epoch)
EpochCallback = Callable[[EpochRecord], None]


def train(
    model: nn.Module,
    data: DeviceData,
    config: TrainConfig,
    device: torch.device,
    *,
    seed: int = 0,
    on_step: StepCallback | None = None,
    on_epoch: EpochCallback | None = None,
) -> TrainResult:
    """Train ``model`` on ``data`` with ``config``; evaluates validation each epoch, test at end."""
    started = time.perf_counter()
    precision = resolve_precision(config.precision, device)
    result = TrainResult(status="complete", precision=precision)
    try:
        _train_epochs(model, data, config, device, seed, result, on_step, on_epoch)
    except RuntimeError as error:
        # A rank that stopped alone would leave the others waiting: a distributed run raises.
        if not is_out_of_memory(error) or data.ranks is not None:
            raise
        if device.type == "cuda":
            torch.cuda.empty_cache()
        result.status, result.error = "failed", f"out of memory: {str(error).splitlines()[0]}"
    result.seconds = time.perf_counter() - started
    return result


def _train_epochs(
    model: nn.Module,
    data: DeviceData,
    config: TrainConfig,
    device: torch.device,
    seed: int,
    result: TrainResult,
    on_step: StepCallback | None,
    on_epoch: EpochCallback | None,
) -> None:
    model = prepare_model(model, device)
    ranks = data.ranks
    # Distributed: ``model`` (global BatchNorm) evaluates, its DDP wrapper trains.
    model, train_model = (model, model) if ranks is None else ranks.wrap(model, seed)
    step_model = torch.compile(train_model) if config.compile else train_model
    # The fused kernel updates each parameter in one pass (same arithmetic as the for-loop).
    fused = {"fused": True} if device.type in ("cpu", "cuda") else {}
    optimizer = torch.optim.SGD(
        parameter_groups(model, config.weight_decay),
        lr=config.lr,
        momentum=config.momentum,
        nesterov=config.momentum > 0,
        **fused,
    )
    criterion = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    generator = torch.Generator(device=device).manual_seed(seed)
    n_train = min(config.train_subset or len(data.train_x), len(data.train_x))
    steps_per_epoch = max(1, n_train // config.batch_size)  # drop the ragged last batch
    total_steps = steps_per_epoch * config.epochs
    global_step = 0
    batch, draws = config.batch_size, {}  # this process's share of each global batch
    if ranks is not None:
        batch = ranks.local_batch(config.batch_size)
        draws = {"global_batch": config.batch_size, "offset": ranks.rank * batch}

    def across_ranks(total: Tensor) -> Tensor:
        return total if ranks is None else ranks.mean(total)

    for epoch in range(1, config.epochs + 1):
        model.train()
        epoch_start = time.perf_counter()
        order = torch.randperm(n_train, device=device, generator=generator)
        train_x, train_y = data.train_x, data.train_y
        if ranks is not None:  # this epoch's share, its part of each step's batch in turn
            train_x, train_y = ranks.epoch_shard(
                train_x, train_y, order, steps_per_epoch, config.batch_size
            )
            order = torch.arange(len(train_x), device=device)
        loss_sum = torch.zeros((), device=device)
        for step in range(steps_per_epoch):
            index = order[step * batch : (step + 1) * batch]
            images = data.normalize(train_x[index])
            if config.augment:
                images = random_crop(images, data.crop_padding, generator, **draws)
                if data.hflip:
                    images = random_flip(images, generator, **draws)
            for group in optimizer.param_groups:
                group["lr"] = config.lr * lr_factor(global_step, total_steps, config)
            with autocast(device, result.precision):
                loss = criterion(step_model(images), train_y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach().float()
            global_step += 1
            # Checking every step would force a device sync on GPUs; every 16 steps is enough.
            check = step % 16 == 15 or step == steps_per_epoch - 1
            if check and not torch.isfinite(across_ranks(loss_sum)):
                result.status = "diverged"
                result.error = f"loss became non-finite in epoch {epoch}, step {step + 1}"
                return
            if on_step:
                on_step(epoch, step + 1, steps_per_epoch)
        synchronize(device)
        train_seconds = time.perf_counter() - epoch_start
        val_acc = evaluate(
            model, data, data.val_x, data.val_y, config.eval_batch_size, device, result.precision
        )
        record = EpochRecord(
            epoch,
            across_ranks(loss_sum).item() / steps_per_epoch,
            val_acc,
            time.perf_counter() - epoch_start,
            steps_per_epoch * config.batch_size / train_seconds,
        )
        result.curve.append(record)
        if on_epoch:
            on_epoch(record)
    result.val_acc = result.curve[-1].val_acc
    result.test_acc = evaluate(
        model, data, data.test_x, data.test_y, config.eval_batch_size, device, result.precision
    )
