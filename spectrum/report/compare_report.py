"""``spectrum compare``: the document comparing two sweep studies, and the files it writes.

Checks both studies (sweeps with usable trials), runs :func:`.analysis.compare.compare_studies`,
draws :mod:`.figures.compare` and the two verdicts side by side (:func:`.figures.forest.draw_pair`,
each study restricted to the shared configurations, as the flips are), and lays out what each
study is (dataset, budget, precision, seeds), the side-by-side verdicts, the per-configuration
differences (B minus A), the rank agreement and the verdicts that flip. Writes compare.md, compare.html and compare.png/svg into the output folder; raises
:class:`~spectrum.errors.SpecError` before writing anything when a study cannot be compared.
"""

from __future__ import annotations

from pathlib import Path

import optuna
import pandas as pd

from .. import fmt
from ..errors import SpecError
from ..labels import level_name
from ..stats.frames import pending_seeds, study_fact, study_kind, trial_frame, usable_sweep
from ..stats.looks import Plan, plan_of
from ..stats.summary import CONFIG, configurations, summarize
from ..stats.verdict import Verdict, build_verdict
from .analysis.compare import StudyComparison, across_match, compare_studies
from .document import Bullets, Document, Heading, Paragraph, Table, figure_blocks
from .figures import compare as compare_figure
from .figures import forest
from .render_html import render_html
from .render_md import render_markdown
from .sections.provenance import precision_text

METHOD = {
    "paired-t": "paired t (same seeds)",
    "welch": "Welch t (unpaired)",
    "none": "too few seeds",
}


def _usable(study: optuna.Study, which: str):
    if study_kind(study) != "sweep":
        raise SpecError(
            f"study {which} ({study.study_name!r}) is a search study; compare needs two sweeps"
        )
    frame = trial_frame(study)
    usable = usable_sweep(frame)
    if usable.empty:
        raise SpecError(
            f"study {which} ({study.study_name!r}) has no usable trials; nothing to compare"
        )
    return frame, usable


def _budget(study) -> str:
    train = study_fact(study, "train") or {}
    if not isinstance(train, dict) or not train:
        return "not recorded"
    return ", ".join(f"{k} {v}" for k, v in train.items())


def _proxy(study) -> str:
    """The preset the study's nets were built on (a trial's record; else its grid's)."""
    net = study_fact(study, "net")
    grid = study.user_attrs.get("grid") or {}
    preset = net.get("preset") if isinstance(net, dict) else None
    return str(preset or (grid.get("preset") if isinstance(grid, dict) else None) or "not recorded")


def _facts(which: str, label: str, study, frame, usable) -> str:
    seeds = sorted({int(s) for s in usable["seed"].dropna()})
    matches = ", ".join(sorted({str(v) for v in usable["match"].dropna()})) or "none"
    return (
        f"{which} = {label} (study {study.study_name!r}): dataset "
        f"{study_fact(study, 'dataset') or 'not recorded'}; net {_proxy(study)}; match "
        f"{matches}; budget {_budget(study)}; precision "
        f"{precision_text(frame)}; seeds {', '.join(map(str, seeds)) or 'not recorded'}; "
        f"{len(usable)} usable trials."
    )


def _config_name(key: dict) -> str:
    parts = [level_name("segments", key["segments"])]
    parts += [
        level_name(f, key[f]) for f in ("order", "activation", "residual") if key[f] is not None
    ]
    if key.get("match") not in (None, "none"):
        parts.append(level_name("match", key["match"]))
    return ", ".join(parts)


def _differences_table(result: StudyComparison) -> Table:
    rows = tuple(
        (
            _config_name(d.key),
            f"{fmt.pct(d.mean_a)} ({d.n_a})",
            f"{fmt.pct(d.mean_b)} ({d.n_b})",
            fmt.pp(d.diff),
            fmt.ci_pp(d.ci_low, d.ci_high),
            fmt.p_value(d.p_value),
            METHOD[d.method],
        )
        for d in result.differences
    )
    return Table(
        ("configuration", "A mean (seeds)", "B mean (seeds)", "B - A", "95% CI", "p", "interval"),
        rows,
        "Mean test accuracy per shared configuration and the difference B minus A with its 95% "
        "t interval: paired by seed when both studies ran the same seeds, else Welch's "
        "(unadjusted for the number of configurations).",
    )


def _rank_text(result: StudyComparison) -> str:
    r = result.rank
    if r.n_configs < 2:
        return "Only one shared configuration: no ranking to compare."
    interval = (
        f"[{r.ci_low:+.2f}, {r.ci_high:+.2f}]"
        if r.ci_low == r.ci_low and r.ci_high == r.ci_high
        else "undefined"
    )
    return (
        f"Kendall tau of the configurations' mean test accuracies in A and B: {r.tau:+.2f} "
        f"over {r.n_configs} configurations (p {fmt.p_value(r.p_value)}); 95% bootstrap "
        f"interval {interval} ({r.resamples} resamples of the seeds within each configuration "
        f"of both studies, fixed seed {r.seed}). With few configurations tau takes few values "
        "and its interval is wide: read it as a rough indication of whether the ranking "
        "carries over, not as a measurement."
    ) + _single_seed_note(result)


def _single_seed_note(result: StudyComparison) -> str:
    sides = [
        side
        for side, n in (
            ("A", min(d.n_a for d in result.differences)),
            ("B", min(d.n_b for d in result.differences)),
        )
        if n < 2
    ]
    if not sides:
        return ""
    return (
        f" {' and '.join(sides)} has configurations with a single seed: the bootstrap cannot "
        "resample their seed noise, so the interval understates the uncertainty."
    )


def _verdict_blocks(result: StudyComparison) -> list:
    margins = (
        f"margin {fmt.pp(result.margin_a).lstrip('+')}"
        if result.margin_a == result.margin_b
        else f"margins {fmt.pp(result.margin_a).lstrip('+')} in A and "
        f"{fmt.pp(result.margin_b).lstrip('+')} in B"
    )
    intro = (
        "The verdict (each g against g = C and g = 1 within its group: better, worse, "
        f"equivalent or undecided; {margins}; Holm over each study's comparisons; and the "
        "trend over log2 g: rises, falls or no trend detected) was run on "
        "each study restricted to the shared configurations, so both families hold the same "
        "comparisons."
    )
    blocks = [Heading("Verdicts that flip"), Paragraph(intro)]
    if not result.verdicts:
        return blocks + [Paragraph("No comparison exists in both studies (no g = C or g = 1).")]
    flips = result.flips
    if flips:
        blocks.append(
            Bullets(
                tuple(
                    f"{v.label}: {v.verdict_a} in A "
                    f"({fmt.pp(v.diff_a)}) -> {v.verdict_b} in B ({fmt.pp(v.diff_b)})"
                    for v in flips
                )
            )
        )
    else:
        blocks.append(Paragraph(f"None of the {len(result.verdicts)} verdicts flips."))
    blocks.append(
        Table(
            ("comparison", "A", "B", "flips"),
            tuple(
                (
                    v.label,
                    f"{v.verdict_a} ({fmt.pp(v.diff_a)})",
                    f"{v.verdict_b} ({fmt.pp(v.diff_b)})",
                    "yes" if v.flipped else "no",
                )
                for v in result.verdicts
            ),
            "Every verdict comparison in A and in B with its mean difference (g minus "
            "reference), and each group's trend over log2 g with its slope.",
        )
    )
    return blocks


def shared_verdict(usable: pd.DataFrame, result: StudyComparison, plan: Plan) -> Verdict:
    """A study's verdict over the configurations both studies share (the flips' family)."""
    shared = {tuple(d.key[f] for f in CONFIG) for d in result.differences}
    trials = [t for key, t in configurations(usable) if tuple(key[f] for f in CONFIG) in shared]
    restricted = pd.concat(trials, ignore_index=True)
    return build_verdict(restricted, summarize(restricted), plan=plan)


def _pairing(result: StudyComparison, matches: tuple[str, str] | None) -> str:
    shared = f"{len(result.differences)} shared configurations (same segments, order, activation"
    if matches is None:
        return shared + ", residual and match)"
    return (
        shared + f" and residual; B's match {matches[1]} paired with A's {matches[0]} by "
        f"--across-match, and labelled with A's)"
    )


def build_document(
    study_a, study_b, label_a: str, label_b: str, out_dir: Path, *, across: bool = False
):
    """The comparison's document, its result and its figures; draws into ``out_dir``.

    ``across``: pair configurations across the two studies' match values (one each)."""
    frame_a, usable_a = _usable(study_a, "A")
    frame_b, usable_b = _usable(study_b, "B")
    plan_a = plan_of(study_a.user_attrs, pending=pending_seeds(study_a))
    plan_b = plan_of(study_b.user_attrs, pending=pending_seeds(study_b))
    matches = across_match(usable_a, usable_b) if across else None
    if matches is not None:
        usable_b = usable_b.assign(match=matches[0])
    result = compare_studies(usable_a, usable_b, plan_a=plan_a, plan_b=plan_b)
    out_dir.mkdir(parents=True, exist_ok=True)
    sides = forest.draw_pair(
        shared_verdict(usable_a, result, plan_a),
        shared_verdict(usable_b, result, plan_b),
        label_a,
        label_b,
        out_dir,
    )
    plot = compare_figure.draw(result, label_a, label_b, out_dir)
    doc = Document(f"Spectrum comparison: {label_a} vs {label_b}")
    doc.add(
        Heading("Studies"),
        Bullets(
            (
                _facts("A", label_a, study_a, frame_a, usable_a),
                _facts("B", label_b, study_b, frame_b, usable_b),
            )
        ),
        Paragraph(
            _pairing(result, matches)
            + (f"; {len(result.only_a)} only in A" if result.only_a else "")
            + (f"; {len(result.only_b)} only in B" if result.only_b else "")
            + ". Differences are B minus A."
        ),
        *figure_blocks(sides),
        Heading("Per-configuration differences"),
        _differences_table(result),
        Heading("Rank agreement"),
        Paragraph(_rank_text(result)),
        *_verdict_blocks(result),
        *figure_blocks(plot),
    )
    return doc, result


def write_compare(
    study_a, study_b, out_dir: Path, *, label_a: str, label_b: str, across_match: bool = False
) -> Path:
    """Write compare.md, compare.html and the figures into ``out_dir``; return compare.md.

    ``across_match``: pair configurations across the studies' match values (one each)."""
    out_dir = Path(out_dir)
    doc, _ = build_document(study_a, study_b, label_a, label_b, out_dir, across=across_match)
    md = out_dir / "compare.md"
    for path, text in ((md, render_markdown(doc)), (out_dir / "compare.html", None)):
        text = text if text is not None else render_html(doc, out_dir)
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    return md
