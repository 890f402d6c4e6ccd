"""Every numeric flag of every command refuses values outside its range: one line naming the
flag, exit code 2, nothing run (spectrum.commands.bounds)."""

from __future__ import annotations

import pytest
import typer

from spectrum import cli
from spectrum.commands.bounds import NUMERIC_FLAG_BOUNDS, Bound, numeric_params, numeric_type

COMMAND = typer.main.get_command(cli.app)
FLAGS = sorted({(path, param.opts[0]) for path, param in numeric_params(COMMAND)})
# Positional arguments a command needs before click reaches its options.
ARGUMENTS = {("report",): ["reports/quickstart"], ("compare",): ["reports/a", "reports/b"]}


def outside(bound: Bound, kind: type) -> list[float]:
    """Values just outside ``bound`` for a flag of type ``kind``."""
    step = 1 if kind is int else 0.5
    values = [bound.low if bound.open else bound.low - step, bound.low - 10 * step]
    if bound.high is not None:
        values.append(bound.high + step)
    return [kind(value) for value in values]


def test_every_numeric_flag_of_every_command_has_a_range():
    assert len(FLAGS) > 40  # count, train, sweep, search, run, report, dashboard, bench x3
    missing = sorted({flag for _, flag in FLAGS} - NUMERIC_FLAG_BOUNDS.keys())
    assert not missing, f"add these flags to NUMERIC_FLAG_BOUNDS: {missing}"


@pytest.mark.parametrize(("path", "flag"), FLAGS, ids=[" ".join(p) + f" {f}" for p, f in FLAGS])
def test_a_value_out_of_range_is_one_line_naming_the_flag_and_exit_2(path, flag, capsys):
    (param,) = [p for q, p in numeric_params(COMMAND) if q == path and p.opts[0] == flag]
    for value in outside(NUMERIC_FLAG_BOUNDS[flag], numeric_type(param)):
        assert cli.main([*path, *ARGUMENTS.get(path, []), flag, str(value)]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.count("\n") == 1 and flag in captured.err, captured.err
        assert f"{flag} must be " in captured.err


def test_bounds_admit_their_edges():
    assert Bound(1).admits(1) and not Bound(1).admits(0)
    assert Bound(0, open=True).admits(1e-9) and not Bound(0, open=True).admits(0.0)
    assert Bound(0, high=65535).admits(0) and not Bound(0, high=65535).admits(65536)
    assert Bound(0, high=65535).describe() == "in 0..65535"
    assert NUMERIC_FLAG_BOUNDS["--seed"].admits(0) and NUMERIC_FLAG_BOUNDS["--val-size"].admits(0)


def test_count_with_batch_size_0_is_refused_not_timed_at_64(capsys):
    assert cli.main(["count", "--segments", "4", "--batch-size", "0"]) == 2
    assert "--batch-size" in capsys.readouterr().err
