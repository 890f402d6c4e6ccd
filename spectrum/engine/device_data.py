"""The data one training process holds: the dataset's tensors on the training device
(:class:`DeviceData`), whole for one process, or this rank's shards for a distributed trial
(:func:`device_data`, with the run's :class:`~spectrum.engine.distributed.Ranks`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import torch
from torch import Tensor

if TYPE_CHECKING:
    from .distributed import Ranks


@dataclass
class DeviceData:
    """Dataset tensors on the training device, with the normalization and augmentation to use.

    With ``ranks`` (one process of a distributed run) the validation and test tensors are this
    rank's shards and the training tensors stay in host memory: each epoch, ``train`` moves this
    rank's share of them to the device.
    """

    train_x: Tensor
    train_y: Tensor
    val_x: Tensor
    val_y: Tensor
    test_x: Tensor
    test_y: Tensor
    mean: Tensor
    std: Tensor
    crop_padding: int
    hflip: bool
    ranks: Ranks | None = None

    @classmethod
    def from_splits(cls, splits, device: torch.device) -> DeviceData:
        def put(t: Tensor) -> Tensor:
            return t.to(device, non_blocking=True)

        channels = splits.train_x.shape[1]
        return cls(
            put(splits.train_x),
            put(splits.train_y),
            put(splits.val_x),
            put(splits.val_y),
            put(splits.test_x),
            put(splits.test_y),
            torch.tensor(splits.mean, device=device).view(1, channels, 1, 1),
            torch.tensor(splits.std, device=device).view(1, channels, 1, 1),
            splits.crop_padding,
            splits.hflip,
        )

    def normalize(self, images: Tensor) -> Tensor:
        out = (images.float() / 255.0 - self.mean) / self.std
        return out.contiguous(memory_format=torch.channels_last)


def device_data(splits, device: torch.device, ranks: Ranks | None) -> DeviceData:
    """The data one process trains on: all of it on ``device`` without ``ranks``; with them, this
    rank's contiguous shard of the validation and test sets on its device and the training set
    in host memory (pinned for a GPU), from which each epoch's share goes to the device."""
    if ranks is None:
        return DeviceData.from_splits(splits, device)

    def part(tensor: Tensor) -> Tensor:
        return torch.tensor_split(tensor, ranks.world_size)[ranks.rank]

    shards = replace(
        splits,
        train_x=splits.train_x[:0],
        train_y=splits.train_y[:0],
        val_x=part(splits.val_x),
        val_y=part(splits.val_y),
        test_x=part(splits.test_x),
        test_y=part(splits.test_y),
    )
    train_x, train_y = splits.train_x, splits.train_y
    if ranks.device.type == "cuda":
        train_x, train_y = train_x.pin_memory(), train_y.pin_memory()
    data = DeviceData.from_splits(shards, ranks.device)
    return replace(data, train_x=train_x, train_y=train_y, ranks=ranks)
