"""Number and sentence formatting for tables and text (one place, so md, html and plots agree).

Accuracies are fractions in [0, 1] shown as percentages; differences of accuracies are shown in
percentage points (pp). Missing values print as an en dash. Also the two sentence helpers the
analysis's prose shares: :func:`capitalized` and :func:`listing`.
"""

from __future__ import annotations

import math

MISSING = "–"


def _bad(value) -> bool:
    try:
        return value is None or not math.isfinite(float(value))
    except (TypeError, ValueError):
        return True


def pct(value, digits: int = 2) -> str:
    """0.9231 -> ``92.31%``."""
    return MISSING if _bad(value) else f"{100.0 * float(value):.{digits}f}%"


def pp(value, digits: int = 2) -> str:
    """Signed difference of accuracies in percentage points: 0.012 -> ``+1.20 pp``."""
    return MISSING if _bad(value) else f"{100.0 * float(value):+.{digits}f} pp"


def ci_pp(low, high, digits: int = 2) -> str:
    """``[+0.80, +1.60] pp``."""
    if _bad(low) or _bad(high):
        return MISSING
    return f"[{100.0 * float(low):+.{digits}f}, {100.0 * float(high):+.{digits}f}] pp"


def ci_pct(low, high, digits: int = 2) -> str:
    if _bad(low) or _bad(high):
        return MISSING
    return f"[{100.0 * float(low):.{digits}f}, {100.0 * float(high):.{digits}f}]%"


def count(value) -> str:
    """Large counts with SI suffix: 1234567 -> ``1.23 M``."""
    if _bad(value):
        return MISSING
    number = float(value)
    for scale, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(number) >= scale:
            return f"{number / scale:.3g}{suffix}"
    return f"{number:.3g}"


def integer(value) -> str:
    return MISSING if _bad(value) else str(int(round(float(value))))


def number(value, digits: int = 3) -> str:
    return MISSING if _bad(value) else f"{float(value):.{digits}g}"


def ms(value) -> str:
    return MISSING if _bad(value) else f"{float(value):.3g} ms"


def rate(value) -> str:
    return MISSING if _bad(value) else f"{float(value):,.0f} img/s"


def p_value(value) -> str:
    if _bad(value):
        return "n/a"
    value = float(value)
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def p_phrase(value, name: str = "p") -> str:
    """``p = 0.031``, ``p < 0.001``, ``p n/a``."""
    shown = p_value(value)
    if shown == "n/a":
        return f"{name} n/a"
    return f"{name} < {shown[1:]}" if shown.startswith("<") else f"{name} = {shown}"


def evidence(head: str, ci_low, ci_high, p_holm, test: str | None, untested: str) -> str:
    """``head (95% CI [..] pp, Holm p = .., test)``, or ``head (untested)`` when ``test`` is None."""
    if test is None:
        return f"{head} ({untested})"
    return f"{head} (95% CI {ci_pp(ci_low, ci_high)}, {p_phrase(p_holm, 'Holm p')}, {test})"


def text(value) -> str:
    """Anything else: ``None``/NaN as the missing mark, booleans as yes/no."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def capitalized(text: str) -> str:
    """The text with its first character upper-cased (the rest untouched)."""
    return text[:1].upper() + text[1:]


def listing(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
