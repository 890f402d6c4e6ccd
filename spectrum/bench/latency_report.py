"""The output of ``spectrum bench latency`` (:mod:`spectrum.bench.latency`):
:func:`latency_rows` (one row per g and round), :func:`latency_document` (the report's blocks)
and :func:`latency_markdown` (rendered by :mod:`spectrum.report.render_md`),
:func:`write_latency_bench` -> ``reports/bench/latency-<device>-<match>.{csv,md}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .. import fmt
from ..options import MATCH_NAMES
from ..report.document import Bullets, Document, Paragraph, Rich, Span, Table
from ..report.render_md import render_markdown
from .machine_load import QUIET_LOAD
from .train_report import command_item, env_text, load_text, warning_item, write_files

if TYPE_CHECKING:
    from .latency import LatencyBench

LATENCY_COLUMNS = (
    "g",
    "round",
    "position",  # 0 = timed first in its round
    "latency_ms",  # median of the round's timed passes, one batch
    "width_multiplier",
    "params",
    "flops",
    "match",
    "batch_size",
    "precision",
    "device",
    "threads",
)


def latency_rows(bench: LatencyBench) -> pd.DataFrame:
    count = len(bench.nets)
    rows = [
        {
            "g": net.g,
            "round": round_index,
            "position": (index - round_index) % count,
            "latency_ms": ms,
            "width_multiplier": net.width_multiplier,
            "params": net.params,
            "flops": net.flops,
            "match": bench.settings.match,
            "batch_size": bench.settings.batch_size,
            "precision": bench.precision,
            "device": bench.device,
            "threads": bench.threads,
        }
        for index, net in enumerate(bench.nets)
        for round_index, ms in enumerate(net.round_ms)
    ]
    return pd.DataFrame(rows, columns=list(LATENCY_COLUMNS))


MATCHED = MATCH_NAMES
TREND_WORDS = {"rises": "rises", "falls": "falls", "undecided": "shows no decided trend"}


def _ratio(value: float) -> str:
    return fmt.MISSING if value != value else f"{value:.2f}x"


def latency_document(bench: LatencyBench) -> Document:
    """The report: the trend, one row per g against the reference, then how it was measured."""
    from .latency import comparisons, trend

    settings = bench.settings
    ref = settings.reference
    found = {c.g: c for c in comparisons(bench)}
    slope = trend(bench)
    budget = "one width" if settings.match == "none" else f"matched {MATCHED[settings.match]}"
    doc = Document(f"Inference latency across the spectrum at {budget} ({bench.device})")
    if slope is not None:
        doc.add(
            Paragraph(
                f"Latency {TREND_WORDS[slope.verdict]} with g: x{slope.factor:.3f} per doubling "
                f"of g (95% CI x{slope.ci_low:.3f} to x{slope.ci_high:.3f}, "
                f"{fmt.p_phrase(slope.p_value)}, {slope.rounds} rounds).",
                strong=True,
            )
        )
    header = (
        *("g", "width x", "params", "FLOPs", "median ms"),
        *(f"vs g = {ref}", "95% CI", "p", "Holm p", "verdict"),
    )
    rows = []
    for net in bench.nets:
        c = found.get(net.g)
        rows.append(
            (
                net.g,
                f"{net.width_multiplier:.3g}",
                fmt.count(net.params),
                fmt.count(net.flops),
                f"{net.median_ms:.2f}",
                _ratio(c.ratio) if c else "reference",
                f"[{_ratio(c.ci_low)}, {_ratio(c.ci_high)}]" if c else "",
                fmt.p_value(c.p_value) if c else "",
                fmt.p_value(c.p_holm) if c else "",
                c.verdict if c else "",
            )
        )
    labels = ", ".join(net.g for net in bench.nets)
    batch = f"; one batch of {settings.batch_size} images, inference only, in {bench.precision}."
    nets = (
        Rich(
            f"Nets: {settings.preset} at g = {labels} (every flow), widths matched to the g = C "
            f"net's {MATCHED[settings.match]} at width {settings.width:g} (as ",
            Span(f"spectrum sweep --match {settings.match}", "code"),
            ")" + batch,
        )
        if settings.match != "none"
        else f"Nets: {settings.preset} at g = {labels} (every flow), all at width "
        f"{settings.width:g}" + batch
    )
    items: list[str] = [
        nets,
        f"Timing: {settings.rounds} rounds; in each, every g in turn (the order rotated by one "
        f"place per round) gets {settings.warmup} untimed and {settings.repeats} timed forward "
        "passes, and the round's value is their median; 'median ms' is the median over rounds.",
        f"Statistics: rounds are the paired units. 'vs g = {ref}' is the geometric mean over "
        "rounds of the latency ratio, with the 95% Student-t interval of the mean log ratio "
        "(exponentiated) and the paired t-test, Holm-adjusted over the g at alpha = 0.05; no "
        "equivalence margin is claimed. The trend is the per-round least-squares slope of "
        "log2 latency on log2 g (C one step right of the largest integer g), t interval over "
        "rounds, as a factor per doubling.",
        f"Device: {bench.device} ({bench.cpu}), {bench.threads} thread(s) of {bench.cores} "
        f"usable CPUs; torch {bench.torch}; date {bench.date}; threading environment: "
        f"{env_text(bench.env)}; {bench.wall_s:.0f} s of timing.",
        f"Machine load (os.getloadavg, 1/5/15 min): {load_text(bench.load_start)} at the "
        f"start, {load_text(bench.load_end)} at the end; other processes kept "
        f"{bench.other_load:.2f} cores busy during the run (/proc/stat minus this process).",
    ]
    warnings = bench.warnings()
    items += [
        warning_item(warning, "these are not a quiet machine's numbers.") for warning in warnings
    ]
    if not warnings:
        items.append(
            f"The machine was quiet: other processes kept at most {QUIET_LOAD} cores busy."
        )
    items.append(command_item(bench.command))
    return doc.add(Table(header, tuple(rows)), Bullets(tuple(items)))


def latency_markdown(bench: LatencyBench) -> str:
    """The report as markdown (:func:`latency_document`, rendered)."""
    return render_markdown(latency_document(bench))


def write_latency_bench(bench: LatencyBench, out_dir: Path) -> tuple[Path, Path]:
    """Write ``latency-<device>-<match>.csv`` and ``.md`` into ``out_dir``."""
    stem = out_dir / f"latency-{bench.label}-{bench.settings.match}"
    return write_files(stem, latency_rows(bench), latency_markdown(bench))
