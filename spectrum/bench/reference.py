"""What the engine is measured against in ``spectrum bench train``: the plain PyTorch training loop
a tutorial would write, and the dense matmul peak that MFU divides by.

The reference loop: ``DataLoader(TensorDataset(images, labels), batch_size, shuffle=True)`` over
float32 images normalized once up front, the model in the default NCHW memory format, float32, no
compile, ``optimizer.zero_grad()``, the same loss (cross entropy with the engine's label
smoothing) and the same optimizer (SGD, Nesterov momentum, the engine's lr, momentum and weight
decay). It is given the benefit of the doubt: no per-step ``loss.item()`` and no per-sample
transforms.

The peak: the best of several timed square ``torch.matmul`` (2 n^3 FLOPs each) in one precision.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import torch
from torch import nn

from ..data import Splits
from ..device import synchronize
from ..engine.train import TrainConfig

if TYPE_CHECKING:
    from .settings import BenchSettings


def reference_loader(splits: Splits, settings: BenchSettings) -> torch.utils.data.DataLoader:
    """A tutorial's input pipeline: float32 images normalized once, DataLoader with shuffling."""
    n = settings.images_per_run
    mean = torch.tensor(splits.mean).view(1, -1, 1, 1)
    std = torch.tensor(splits.std).view(1, -1, 1, 1)
    images = (splits.train_x[:n].float() / 255.0 - mean) / std
    dataset = torch.utils.data.TensorDataset(images, splits.train_y[:n])
    return torch.utils.data.DataLoader(
        dataset, batch_size=settings.batch_size, shuffle=True, drop_last=True
    )


def reference_steps(
    model: nn.Module, loader: torch.utils.data.DataLoader, recipe: TrainConfig, device: torch.device
) -> Iterator[None]:
    """A plain PyTorch training loop, one step per ``next()``, epoch after epoch."""
    model = model.to(device)  # default (contiguous NCHW) memory format, float32
    model.train()
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=recipe.lr,
        momentum=recipe.momentum,
        nesterov=True,
        weight_decay=recipe.weight_decay,
    )
    criterion = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    while True:
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
            yield


def matmul_peak_gflops(
    device: torch.device, size: int = 2048, repeats: int = 5, precision: str = "float32"
) -> float:
    """Best dense matmul throughput (GFLOP/s, 2 n^3 FLOPs per n x n product) in ``precision``."""
    dtype = getattr(torch, precision)
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=generator).to(device, dtype)
    b = torch.randn(size, size, generator=generator).to(device, dtype)
    out = torch.empty(size, size, device=device, dtype=dtype)
    torch.matmul(a, b, out=out)  # warm-up
    synchronize(device)
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        torch.matmul(a, b, out=out)
        synchronize(device)
        best = min(best, time.perf_counter() - began)
    return 2 * size**3 / best / 1e9
