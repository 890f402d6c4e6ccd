import pytest

from spectrum.errors import SpecError
from spectrum.net.segments import (
    nearest_valid_segments,
    parse_segments,
    parse_segments_list,
    segments_sort_key,
)


def test_parse_list_with_c_any_case():
    assert parse_segments_list("1,4, 32,c") == [1, 4, 32, "C"]


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("0", "positive"),
        ("-2", "positive"),
        ("1,x", "'x'"),
        ("1,,4", "empty item at position 2"),
        ("", "empty item"),
        ("4,4", "twice"),
        ("C,c", "twice"),
        ("2.5", "'2.5'"),
    ],
)
def test_bad_lists_are_one_line_errors(text, fragment):
    with pytest.raises(SpecError) as error:
        parse_segments_list(text)
    assert fragment in str(error.value) and "\n" not in str(error.value)


def test_parse_single_values():
    assert parse_segments(8) == 8 and parse_segments(" C ") == "C"
    with pytest.raises(SpecError):
        parse_segments(True)


def test_nearest_valid_and_sort():
    assert nearest_valid_segments(5, 12) == [4, 6]
    assert nearest_valid_segments(20, 12) == [12]
    assert sorted(["C", 32, 1], key=segments_sort_key) == [1, 32, "C"]
