"""Every cost of a config by name (:func:`count`): ``params``, ``flops`` and ``activations``
(:mod:`spectrum.cost.counts`), ``live-params`` and ``live-flops`` (:mod:`spectrum.cost.live`);
the one entry point budget matching and the trial's record count through."""

from __future__ import annotations

import functools

from ..net.xception import NetConfig, build_net
from .counts import count_activations, count_params, shape_flops
from .live import live_config_counts


@functools.lru_cache(maxsize=1024)
def count(config: NetConfig, metric: str) -> int:
    """``params``, ``flops``, ``activations``, ``live-params`` or ``live-flops``
    (:mod:`spectrum.cost.live`) of a config, from a net built on the meta device (no memory).
    Cached: a config's counts never change, and a sweep counts each config once per seed and
    budget matching counts many candidate widths."""
    if metric in ("live-params", "live-flops"):
        live = live_config_counts(config)
        return live.live_params if metric == "live-params" else live.live_flops
    if metric == "params":
        return count_params(build_net(config, "meta"))
    if metric == "flops":
        return shape_flops(build_net(config, "meta"), config)
    if metric == "activations":
        return count_activations(build_net(config, "meta"), config)
    raise ValueError(f"unknown metric {metric!r}")
