"""The package's rooms: no import cycle, and no import from a lower stage up to a higher one.

Every ``import`` in ``spectrum/`` counts, at module level or inside a function or an
``if TYPE_CHECKING:`` block: a lazy import is still an arrow between two rooms.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "spectrum"

# The pipeline, lowest stage first. A module may import from its own stage or a lower one.
STAGES = (
    # shared contracts
    ("errors", "fields", "options", "labels", "fmt", "records", "device", "stopping"),
    ("net",),  # 1. the networks
    ("cost",),  # 2. what a network costs
    ("data",),  # 3. the data
    ("engine",),  # 4. training
    ("stats",),  # 5. the statistics: inference, decisions, sequential looks, verdict
    ("study",),  # 6. trials as resumable Optuna studies
    ("report",),  # 7. from a study to a report
    ("bench",),  # 8. the benchmarks (they run studies and write reports)
    ("dashboard",),
    ("api",),  # the Python API
    ("commands",),  # the command line's commands
    ("cli", "__main__", ""),  # the command line's entry; "": the package itself (spectrum/__init__)
)
RANK = {room: rank for rank, rooms in enumerate(STAGES) for room in rooms}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The spectrum modules that ``name`` imports (a submodule, not its package, when
    ``from package import submodule``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            subs = {f"{target}.{alias.name}" for alias in node.names} & known
            found.update(subs)
            if len(subs) < len(node.names):
                found.add(target)
    return {module for module in found if module in known and module != name}


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(name, path, set(found)) for name, path in found.items()}


def room(module: str) -> str:
    """``spectrum.stats.verdict`` -> ``stats``; ``spectrum`` -> ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(edges[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_every_room_has_a_stage():
    rooms = {room(module) for module in modules()}
    assert rooms <= set(RANK), f"rooms without a stage in STAGES: {sorted(rooms - set(RANK))}"


def test_no_import_cycle():
    assert cycles(graph()) == []


def test_no_arrow_from_a_lower_stage_up():
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in graph().items()
        for target in targets
        if RANK[room(target)] > RANK[room(module)]
    )
    assert upward == []


def test_the_check_sees_cycles_and_upward_arrows():
    edges = {"spectrum.stats.a": {"spectrum.study.b"}, "spectrum.study.b": {"spectrum.stats.a"}}
    assert cycles(edges) == [["spectrum.stats.a", "spectrum.study.b"]]
    assert RANK[room("spectrum.study.b")] > RANK[room("spectrum.stats.a")]
