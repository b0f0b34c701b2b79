"""Tests for the terminal table ``nngrade check`` prints."""

from __future__ import annotations

import unicodedata

import pytest

from grader.outputs.terminal import format_table
from tests.report_samples import graded_result, ungradable_result


def _width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in line)


def test_format_table_rows() -> None:
    # Wide enough that nothing is cut: the first-line-only rule must hold on its own.
    lines = format_table(graded_result(), width=300).splitlines()
    assert len(lines) == 5 + 5 + 1  # checks, cell events, total

    assert lines[0].startswith("PASS") and "2/2" in lines[0]
    assert "relu returns 0 for negative inputs" in lines[0]

    assert lines[1].startswith("FAIL") and "0/2" in lines[1]
    assert "relu keeps positive values" in lines[1]
    assert "returned the wrong values" in lines[1]  # first message line ...
    assert "expected" not in lines[1] and "script" not in lines[1]  # ... and only that

    assert lines[2].startswith("FAIL") and "0.5/1" in lines[2] and "hidden" in lines[2]
    assert "The gradient at x = 0 differs." in lines[2] and "got" not in lines[2]
    assert lines[3].startswith("PASS") and "3/3" in lines[3] and "relu_shape_only_name" in lines[3]
    assert lines[4].startswith("ERROR") and "0/2" in lines[4]

    assert lines[5:10] == [
        "cell 3: NameError: name 'np' is not defined",
        "cell 5: timed out after 30 s",
        "cell 6: the kernel died",
        "cell 7: skipped: calls input()",
        "cell 8: printed 12 MB of output",
    ]
    assert lines[-1] == "Score: 5.5/10"
    assert not any(".0/" in line or "/2.0" in line for line in lines)


@pytest.mark.parametrize("width", [40, 60, 100])
def test_format_table_fits_width(width: int) -> None:
    result = graded_result()
    result.checks[0].description = "렐루 함수가 음수 입력에 대해 0을 돌려주는지 확인합니다 " * 3
    lines = format_table(result, width=width).splitlines()
    assert all(_width(line) <= width for line in lines)
    assert lines[0].endswith("…")
    assert lines[1].endswith("…")


def test_format_table_for_ungradable_shows_reason_only() -> None:
    text = format_table(ungradable_result())
    assert "ungradable" in text
    assert "the file is not valid JSON, line 1, column 1" in text
    assert "PASS" not in text and "FAIL" not in text and "Score" not in text
