"""One trial across processes and machines: PyTorch's DistributedDataParallel under ``torchrun``.

This module owns everything that lets one trial span several processes: reading the environment
``torchrun`` gives each process (:func:`launch_from_environment`), the check that the world size
divides the global batch (:func:`check_batch`), each rank's device (``cuda:LOCAL_RANK``, or the
CPU) and backend (NCCL on CUDA, gloo on the CPU), the process group (:func:`process_group`), the
model's wrapping (BatchNorm over the global batch, then DDP) and the reductions of losses and
accuracies across ranks (:class:`Ranks`). :func:`spectrum.engine.train.train` takes the
distributed path when its :class:`~spectrum.engine.device_data.DeviceData` carries a
:class:`Ranks` (the data's sharding is :func:`spectrum.engine.device_data.device_data`); at world
size 1 nothing here is used and training is the single-process engine, bit for bit.

A run at world size W computes what one process computes at the same global batch B, up to float
rounding (the order of sums):

- Data. Every rank draws the same seeded permutation each epoch; step s trains on the images a
  single process would take, ``order[s*B:(s+1)*B]``, and rank r on its contiguous part of them
  (``B / W`` images from ``r * B / W``). The training set stays in host memory; before each epoch
  a rank copies only that epoch's share (its part of every step's batch) to its device. The
  validation and test sets are split into contiguous shards, one per rank, on the device.
- Augmentation. Random crops and flips are drawn for the whole global batch on every rank (same
  generator, same draws) and each rank keeps its rows, so an image gets the crop it would get in
  one process and the generators stay in step for the next epoch's permutation.
- BatchNorm normalizes over the global batch: torch's ``SyncBatchNorm`` on CUDA and, on the CPU
  (where torch's refuses to run), :class:`CrossRankBatchNorm2d`, whose statistics are summed
  across ranks. Running statistics are therefore the same on every rank.
- DDP averages the gradients of the ranks' mean losses: the gradient of the global mean loss.
- Evaluation: each rank evaluates its validation/test shard with its unwrapped model (the same
  weights and BatchNorm statistics on every rank) and the correct counts are summed.

Rank 0 is the main rank; the CLI lets only it print. Errors end the rank (an out-of-memory error
too, unlike in one process): a rank that stopped on its own would leave the others waiting in a
collective, while ``torchrun`` stops every worker when one fails.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from ..device import usable_cores
from ..errors import SpecError

BACKENDS = {"cuda": "nccl", "cpu": "gloo"}
LAUNCH_HINT = "launch with torchrun (or python -m torch.distributed.run)"


@dataclass(frozen=True)
class Launch:
    """This process's place in a distributed run, as ``torchrun`` set it in the environment."""

    rank: int
    world_size: int
    local_rank: int
    local_world_size: int
    master_addr: str
    master_port: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def _integer(environ: Mapping[str, str], name: str, default: int | None = None) -> int:
    text = environ.get(name)
    if text is None:
        if default is None:
            raise SpecError(
                f"WORLD_SIZE is {environ['WORLD_SIZE']} but {name} is not set: {LAUNCH_HINT}"
            )
        return default
    try:
        return int(text)
    except ValueError:
        raise SpecError(f"environment variable {name}={text!r} is not an integer") from None


def launch_from_environment(environ: Mapping[str, str] | None = None) -> Launch | None:
    """The run ``torchrun`` started this process in; None outside one or at world size 1."""
    environ = os.environ if environ is None else environ
    if "WORLD_SIZE" not in environ:
        return None
    world_size = _integer(environ, "WORLD_SIZE")
    if world_size < 1:
        raise SpecError(f"WORLD_SIZE must be >= 1, got {world_size}")
    if world_size == 1:
        return None
    rank = _integer(environ, "RANK")
    if not 0 <= rank < world_size:
        raise SpecError(f"RANK {rank} is outside the world of {world_size} processes")
    local_rank = _integer(environ, "LOCAL_RANK", 0)
    local_world_size = _integer(environ, "LOCAL_WORLD_SIZE", local_rank + 1)
    for name in ("MASTER_ADDR", "MASTER_PORT"):
        if not environ.get(name):
            raise SpecError(f"WORLD_SIZE is {world_size} but {name} is not set: {LAUNCH_HINT}")
    return Launch(
        rank,
        world_size,
        local_rank,
        local_world_size,
        environ["MASTER_ADDR"],
        _integer(environ, "MASTER_PORT"),
    )


def check_batch(batch_size: int, world_size: int) -> int:
    """The per-rank batch: ``batch_size`` (global) split evenly over ``world_size`` ranks."""
    if batch_size % world_size:
        below = batch_size // world_size * world_size
        nearest = ", ".join(str(n) for n in (below, below + world_size) if n > 0)
        raise SpecError(
            f"--batch-size {batch_size} (the global batch) is not divisible by the world size "
            f"{world_size} (processes across all nodes): use a multiple of {world_size} such as "
            f"{nearest}, or change --nproc-per-node/--nnodes"
        )
    return batch_size // world_size


def local_launch(argv: list[str], processes: int, batch_size: int) -> list[str]:
    """The ``torchrun`` command that runs ``spectrum <argv>`` in ``processes`` processes here.

    Checked before anything starts: ``processes`` >= 1 and dividing the global ``batch_size``
    (SpecError otherwise), so a bad launch is one line from ``spectrum`` rather than a failure
    inside every worker. One node, rendezvous on loopback (``--standalone``).
    """
    if processes < 1:
        raise SpecError(f"--nproc-per-node must be >= 1, got {processes}")
    check_batch(batch_size, processes)
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={processes}",
        "-m",
        "spectrum",
        *argv,
    ]


def rank_device(launch: Launch, requested: str = "auto") -> torch.device:
    """This rank's device: ``cuda:LOCAL_RANK`` for ``auto`` (with a GPU) or ``cuda``, else CPU."""
    text = str(requested).strip().lower()
    if text == "cpu" or (text == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if text not in ("auto", "cuda"):
        raise SpecError(
            f"device {requested!r}: under torchrun use auto, cuda or cpu "
            "(each process takes the GPU cuda:LOCAL_RANK)"
        )
    if not torch.cuda.is_available():
        raise SpecError(f"device {requested!r}: no CUDA GPU is visible here; use --device cpu")
    visible = torch.cuda.device_count()
    if launch.local_rank >= visible:
        raise SpecError(
            f"local rank {launch.local_rank} has no GPU: this node shows {visible}; "
            f"start at most --nproc-per-node {visible} processes on it"
        )
    return torch.device("cuda", launch.local_rank)


class _SumAcrossRanks(torch.autograd.Function):
    """All-reduce (sum) whose gradient is the all-reduced (summed) gradient."""

    @staticmethod
    def forward(ctx, tensor: Tensor) -> Tensor:  # noqa: ARG004 - autograd's signature
        total = tensor.clone(memory_format=torch.contiguous_format)
        dist.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:  # noqa: ARG004
        total = grad.clone(memory_format=torch.contiguous_format)
        dist.all_reduce(total)
        return total


class CrossRankBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d over the global batch of all ranks, on any device (for the CPU: torch's
    ``SyncBatchNorm`` runs only on GPUs). Statistics are computed in float32 in two passes (sum,
    then the sum of squared deviations), each summed across ranks; eval mode is plain BatchNorm."""

    def forward(self, input: Tensor) -> Tensor:
        if not self.training or not dist.is_initialized() or dist.get_world_size() == 1:
            return super().forward(input)
        x = input.float()
        local_count = x.numel() // x.shape[1]
        sums = _SumAcrossRanks.apply(torch.cat([x.sum((0, 2, 3)), x.new_full((1,), local_count)]))
        count = sums[-1].detach()
        mean = sums[:-1] / count
        centered = x - mean.view(1, -1, 1, 1)
        var = _SumAcrossRanks.apply(centered.square().sum((0, 2, 3))) / count
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                factor = self.momentum
                if factor is None:  # cumulative moving average, as BatchNorm does
                    factor = 1.0 / float(self.num_batches_tracked)
                unbiased = var * (count / (count - 1).clamp(min=1))
                self.running_mean.mul_(1 - factor).add_(mean.detach(), alpha=factor)
                self.running_var.mul_(1 - factor).add_(unbiased.detach(), alpha=factor)
        scale = torch.rsqrt(var + self.eps)
        if self.weight is not None:
            scale = scale * self.weight
        out = centered * scale.view(1, -1, 1, 1)
        if self.bias is not None:
            out = out + self.bias.view(1, -1, 1, 1)
        return out.to(input.dtype)


def _cross_rank_batchnorm(module: nn.Module) -> nn.Module:
    """``module`` with every BatchNorm2d replaced by a :class:`CrossRankBatchNorm2d` copy."""
    if type(module) is nn.BatchNorm2d:
        replacement = CrossRankBatchNorm2d(
            module.num_features,
            module.eps,
            module.momentum,
            module.affine,
            module.track_running_stats,
        )
        tensors = [*module.buffers(), *module.parameters()]
        if tensors:
            replacement = replacement.to(tensors[0].device)
        replacement.load_state_dict(module.state_dict())
        for new, old in zip(replacement.parameters(), module.parameters()):
            new.requires_grad_(old.requires_grad)
        replacement.train(module.training)
        return replacement
    for name, child in module.named_children():
        module.add_module(name, _cross_rank_batchnorm(child))
    return module


def global_batchnorm(model: nn.Module, device: torch.device) -> nn.Module:
    """``model`` with BatchNorm over the global batch: SyncBatchNorm on CUDA, else ours."""
    if device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(model)
    return _cross_rank_batchnorm(model)


@dataclass(frozen=True)
class Ranks:
    """The process group of a running distributed trial, as one rank sees it."""

    launch: Launch
    device: torch.device
    backend: str

    @property
    def rank(self) -> int:
        return self.launch.rank

    @property
    def world_size(self) -> int:
        return self.launch.world_size

    @property
    def is_main(self) -> bool:
        return self.launch.is_main

    def local_batch(self, batch_size: int) -> int:
        return check_batch(batch_size, self.world_size)

    def wrap(self, model: nn.Module, seed: int) -> tuple[nn.Module, nn.Module]:
        """(the model with global BatchNorm, for evaluation; its DDP wrapper, for training).

        Also seeds torch's default generators with ``seed * world_size + rank``: they drew the
        same initialization on every rank, and would otherwise draw the same dropout masks.
        """
        torch.manual_seed(seed * self.world_size + self.rank)
        model = global_batchnorm(model, self.device)
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return model, DistributedDataParallel(model, device_ids=device_ids)

    def epoch_shard(
        self, images: Tensor, labels: Tensor, order: Tensor, steps: int, batch_size: int
    ) -> tuple[Tensor, Tensor]:
        """This rank's images of an epoch, on its device: its part of each step's global batch
        (``order[s*B:(s+1)*B]``), the parts one after the other."""
        local = self.local_batch(batch_size)
        if len(order) < steps * batch_size:
            raise SpecError(
                f"the {len(order)} training images are fewer than one global batch of "
                f"{batch_size}; lower --batch-size or train on more images"
            )
        mine = order[: steps * batch_size].view(steps, self.world_size, local)[:, self.rank]
        mine = mine.reshape(-1).to(images.device)
        return images[mine].to(self.device), labels[mine].to(self.device)

    def sum(self, tensor: Tensor) -> Tensor:
        """``tensor`` summed over the ranks (a new tensor, the same on every rank)."""
        total = tensor.detach().clone()
        dist.all_reduce(total)
        return total

    def mean(self, tensor: Tensor) -> Tensor:
        return self.sum(tensor) / self.world_size

    def accuracy(self, correct: Tensor, count: int) -> float:
        """The accuracy over every rank's shard, from this rank's correct count and size."""
        both = torch.stack([correct.double(), correct.new_tensor(count, dtype=torch.float64)])
        correct_all, count_all = self.sum(both).tolist()
        return correct_all / max(1.0, count_all)

    def barrier(self) -> None:
        dist.barrier()


def backend_for(device: torch.device) -> str:
    if device.type not in BACKENDS:
        raise SpecError(f"device {device}: distributed training runs on cuda or cpu")
    return BACKENDS[device.type]


@contextmanager
def process_group(launch: Launch | None, device: torch.device) -> Iterator[Ranks | None]:
    """Join the run's process group for the block (None, and nothing to join, without one).

    On the CPU each rank gets cores / processes-per-node threads, unless ``SPECTRUM_THREADS``
    says otherwise. The rendezvous is torchrun's (``MASTER_ADDR``/``MASTER_PORT``).
    """
    if launch is None:
        yield None
        return
    backend = backend_for(device)
    if device.type == "cpu":
        threads = int(os.environ.get("SPECTRUM_THREADS") or 0)
        torch.set_num_threads(threads or max(1, usable_cores() // launch.local_world_size))
    dist.init_process_group(backend, rank=launch.rank, world_size=launch.world_size)
    try:
        yield Ranks(launch, device, backend)
    finally:
        dist.destroy_process_group()


@contextmanager
def main_rank_first(ranks: Ranks | None) -> Iterator[None]:
    """Run the block on rank 0 first, then on the others (one download, not one per rank)."""
    if ranks is not None and not ranks.is_main:
        ranks.barrier()
    yield
    if ranks is not None and ranks.is_main:
        ranks.barrier()
