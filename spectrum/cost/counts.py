"""Complexity accounting: parameters and FLOPs (fvcore, or the same count from layer shapes).

FLOPs are fvcore's: one fused multiply-add counts as ONE flop, so the numbers are multiply-adds
(MACs), comparable with the paper's "8.4 G multiply-adds" for Xception. fvcore counts convolutions
(grouped and depthwise correctly), linear layers, batch norm (2 per element in eval mode) and
adaptive average pooling; it ignores element-wise ops (ReLU, residual additions, max pooling).
Counting is done on the uncompiled model in eval mode with a batch of one image. Measured latency
is :mod:`spectrum.cost.latency`.

A second, independent counter is PyTorch's own :class:`torch.utils.flop_counter.FlopCounterMode`
(:func:`torch_macs`): it counts 2 FLOPs per multiply-add and only matrix products (convolutions
and linear layers), skipping batch norm and pooling; halved, it equals fvcore's conv + linear
multiply-adds exactly for every net here (tests check). **Activations** (:func:`count_activations`)
are RegNet's measure of memory traffic: the number of elements of every convolution's output for
one image (Radosavovic et al., "Designing Network Design Spaces", 2020).
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from ..net.xception import FLOWS, NetConfig

FLOW_MODULES = ("stem", "entry_flow", "middle_flow", "exit_flow", "classifier")


def count_params(model: nn.Module) -> int:
    """Trainable parameters (conv weights, BN gamma/beta, classifier), as the paper's Table 3."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def params_by_flow(model: nn.Module) -> dict[str, int]:
    counts = {name: 0 for name in FLOW_MODULES}
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            counts[name.split(".", 1)[0]] += parameter.numel()
    return counts


def _flop_analysis(model: nn.Module, config: NetConfig):
    from fvcore.nn import FlopCountAnalysis  # here: ~0.3 s of import, needed only to count

    sample = torch.zeros(1, *config.input_shape)
    analysis = FlopCountAnalysis(model.eval(), sample)
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    return analysis


def count_flops(model: nn.Module, config: NetConfig) -> int:
    """fvcore multiply-adds for one image at the config's input size."""
    return int(_flop_analysis(model, config).total())


def flops_by_flow(model: nn.Module, config: NetConfig) -> dict[str, int]:
    by_module = _flop_analysis(model, config).by_module()
    return {name: int(by_module.get(name, 0)) for name in FLOW_MODULES}


def fvcore_by_operator(model: nn.Module, config: NetConfig) -> dict[str, int]:
    """fvcore multiply-adds per operator kind (``conv``, ``linear``, ``batch_norm``, ...)."""
    return {name: int(n) for name, n in _flop_analysis(model, config).by_operator().items()}


def _meta_forward(model: nn.Module, config: NetConfig) -> None:
    with torch.no_grad():
        model.eval()(torch.zeros(1, *config.input_shape, device="meta"))


def _on_meta(model: nn.Module) -> nn.Module:
    """``model`` itself if it lives on the meta device, else a meta copy (the caller's is kept)."""
    if all(p.device.type == "meta" for p in model.parameters()):
        return model
    return copy.deepcopy(model).to("meta")


def torch_macs(model: nn.Module, config: NetConfig) -> int:
    """Multiply-adds of convolutions and linear layers by ``torch.utils.flop_counter``.

    FlopCounterMode counts 2 FLOPs per multiply-add, so its total is halved here. It skips batch
    norm, pooling and element-wise ops. Runs on a meta-device copy of the net (no memory).
    """
    from torch.utils.flop_counter import FlopCounterMode

    meta = _on_meta(model)
    with FlopCounterMode(display=False) as counter:
        _meta_forward(meta, config)
    return int(counter.get_total_flops()) // 2


def count_activations(model: nn.Module, config: NetConfig) -> int:
    """Elements of every convolution's output for one image (RegNet's "activations")."""
    total = 0

    def hook(module: nn.Module, inputs, output) -> None:
        nonlocal total
        total += output.numel()

    meta = _on_meta(model)
    handles = [m.register_forward_hook(hook) for m in meta.modules() if isinstance(m, nn.Conv2d)]
    try:
        _meta_forward(meta, config)
    finally:
        for handle in handles:
            handle.remove()
    return total


def shape_flops(model: nn.Module, config: NetConfig) -> int:
    """fvcore's count, computed from layer shapes on the meta device (no memory, ~100x faster).

    Counts exactly what fvcore counts for these nets (tests check equality): convolutions
    (output elements x input channels per group x kernel area), linear layers, eval-mode batch
    norm (2 per element) and adaptive average pooling (1 per input element).
    """
    total = 0

    def hook(module: nn.Module, inputs, output) -> None:
        nonlocal total
        if isinstance(module, nn.Conv2d):
            kernel = module.kernel_size[0] * module.kernel_size[1]
            total += output.numel() * (module.in_channels // module.groups) * kernel
        elif isinstance(module, nn.Linear):
            total += output.numel() * module.in_features
        elif isinstance(module, nn.BatchNorm2d):
            total += 2 * output.numel()
        elif isinstance(module, nn.AdaptiveAvgPool2d):
            total += inputs[0].numel()

    counted = (nn.Conv2d, nn.Linear, nn.BatchNorm2d, nn.AdaptiveAvgPool2d)
    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, counted)]
    try:
        _meta_forward(model, config)
    finally:
        for handle in handles:
            handle.remove()
    return total


__all__ = [
    "FLOWS",
    "count_activations",
    "count_flops",
    "count_params",
    "shape_flops",
    "flops_by_flow",
    "fvcore_by_operator",
    "params_by_flow",
    "torch_macs",
]
