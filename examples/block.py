"""The spectrum block in your own network: a pointwise (1x1) conv and a spatial conv over g
segments, here g = 4 in the Inception order (pointwise first).

Run: python examples/block.py
"""

import torch
from torch import nn

import spectrum

block = spectrum.SpectrumConv(spectrum.BlockSpec(32, 64, segments=4, order="pointwise-first"))
net = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), block)
out = net(torch.randn(2, 3, 16, 16))
print(out.shape)  # torch.Size([2, 64, 16, 16])
assert out.shape == (2, 64, 16, 16)
