"""Tests for the student HTML report, grades.csv, results.json and the terminal table."""

from __future__ import annotations

import csv
import html
import json
import os
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest

from grader import report
from grader.report import (
    atomic_write_text,
    format_points,
    format_table,
    render_report,
    write_grades_csv,
    write_report,
    write_results_json,
)
from grader.results import CellEvent, CheckResult, SubmissionResult

KOREAN_NAME = "2022021241_이다온.ipynb"
XSS = "<script>alert(1)</script>"
FAIL_MESSAGE = (
    "relu(x) returned the wrong values for x = [-1.0, 0.5, 3.0].\n"
    "  expected: [0.0, 0.5, 3.0]\n"
    "  got:      [0.0, 0.0, 0.0]\n"
    f"Look at the comparison in your relu; your output was {XSS}"
)
HIDDEN_MESSAGE = "The gradient at x = 0 differs.\n  expected: 0.0\n  got:      1.0"
ERROR_MESSAGE = "TypeError: check_dtype() missing 1 required positional argument: 'x'"

CELL_EVENTS = [
    (3, "error", "raised an error"),
    (5, "timeout", "timed out"),
    (6, "kernel_died", "killed the kernel (the kernel was restarted and grading went on)"),
    (7, "skipped", "skipped while grading"),
    (8, "large_output", "printed a very large output (not kept)"),
]


def graded_result() -> SubmissionResult:
    return SubmissionResult(
        id="2022021241-relu",
        submission=KOREAN_NAME,
        path=f"/submissions/{KOREAN_NAME}",
        assignment="relu",
        status="graded",
        score=5.5,
        max_score=10.0,
        seed=424242,
        mode="grade",
        checks=[
            CheckResult("relu_negatives", "relu returns 0 for negative inputs", 2.0, 2.0, True),
            CheckResult(
                "relu_positives", "relu keeps positive values", 0.0, 2.0, False, FAIL_MESSAGE
            ),
            CheckResult(
                "relu_grad", "gradient matches autograd", 0.5, 1.0, False, HIDDEN_MESSAGE, True
            ),
            CheckResult("relu_shape_only_name", "", 3.0, 3.0, True, hidden=True),
            CheckResult(
                "relu_dtype",
                "relu keeps the dtype",
                0.0,
                2.0,
                False,
                ERROR_MESSAGE,
                outcome="error",
            ),
        ],
        cells=[
            CellEvent(
                3,
                "error",
                "NameError: name 'np' is not defined",
                "Traceback (most recent call last):\n    x = np.zeros(3)\nNameError: np",
                "x = np.zeros(3)",
            ),
            CellEvent(5, "timeout", "timed out after 30 s", "", "for epoch in range(10_000):"),
            CellEvent(6, "kernel_died", "the kernel died", "", "big = torch.zeros(10**12)"),
            CellEvent(7, "skipped", "skipped: calls input()", "name = input()", "name = input()"),
            CellEvent(8, "large_output", "printed 12 MB of output", "", "print(weights)"),
        ],
        duration=12.34,
        graded_at="2025-11-22T05:40:00+09:00",
        nngrade_version="0.1.0",
    )


def ungradable_result() -> SubmissionResult:
    return SubmissionResult(
        id="hw1-broken",
        submission="hw1 (1).ipynb",
        path="/submissions/hw1 (1).ipynb",
        assignment="relu",
        status="ungradable",
        max_score=10.0,
        reason="the file is not valid JSON, line 1, column 1",
        seed=424242,
    )


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible_text(markup: str) -> str:
    """The text a reader sees, entities decoded and whitespace collapsed."""
    parser = _TextExtractor()
    parser.feed(re.sub(r"<style>.*?</style>", "", markup, flags=re.S))
    return " ".join(" ".join(parser.parts).split())


def check_block(markup: str, needle: str) -> str:
    """The <tbody> of the checks table that contains ``needle``."""
    blocks = [b for b in markup.split("<tbody>")[1:] if needle in b]
    assert len(blocks) == 1, needle
    return blocks[0].split("</tbody>")[0]


def pre_blocks(markup: str) -> list[str]:
    return [html.unescape(b) for b in re.findall(r"<pre>(.*?)</pre>", markup, flags=re.S)]


# --- HTML report -------------------------------------------------------------------------------


def test_report_shows_title_score_and_percentage() -> None:
    markup = render_report(graded_result())
    text = visible_text(markup)
    assert KOREAN_NAME in text
    assert "relu" in text
    assert "5.5 / 10" in text
    assert "55%" in text
    assert 'style="width: 55.0%"' in markup
    assert "Graded" in text
    assert re.search(r"<title>[^<]*2022021241_이다온\.ipynb[^<]*relu", markup)


def test_report_lists_every_check_with_points_and_badge() -> None:
    markup = render_report(graded_result())
    expected = {
        "relu returns 0 for negative inputs": ("2 / 2", "Passed"),
        "relu keeps positive values": ("0 / 2", "Failed"),
        "gradient matches autograd": ("0.5 / 1", "Failed"),
        "relu_shape_only_name": ("3 / 3", "Passed"),  # no description: the name is shown
        "relu keeps the dtype": ("0 / 2", "Not checked"),
    }
    for label, (points, badge) in expected.items():
        block = visible_text(check_block(markup, label))
        assert label in block
        assert points in block
        assert badge in block
        assert ".0 /" not in block and "/ 2.0" not in block
    others = {"Passed", "Failed", "Not checked"}
    for label, (_, badge) in expected.items():
        block = visible_text(check_block(markup, label))
        assert not any(other in block for other in others - {badge}), label


def test_hidden_checks_are_labelled() -> None:
    markup = render_report(graded_result())
    assert ">hidden<" in check_block(markup, "gradient matches autograd")
    assert ">hidden<" in check_block(markup, "relu_shape_only_name")
    assert ">hidden<" not in check_block(markup, "relu keeps positive values")


def test_failure_message_is_escaped_and_keeps_its_layout() -> None:
    markup = render_report(graded_result())
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    assert "<script" not in markup.lower()
    # The exact multi-line message, indentation included, sits in a <pre> block.
    assert FAIL_MESSAGE in pre_blocks(markup)
    assert HIDDEN_MESSAGE in pre_blocks(markup)
    # Passed checks have no message block.
    assert "<pre>" not in check_block(markup, "relu returns 0 for negative inputs")


def test_grader_error_is_not_blamed_on_the_student() -> None:
    markup = render_report(graded_result())
    block = visible_text(check_block(markup, "relu keeps the dtype"))
    assert "could not be checked (problem in the grader, not your code)" in block
    assert "Failed" not in block


def test_student_text_is_escaped_everywhere() -> None:
    result = graded_result()
    result.submission = '<img src=x onerror="alert(1)">.ipynb'
    result.assignment = XSS
    result.cells[0].source_head = XSS
    result.cells[0].detail = XSS
    result.checks[0].description = XSS
    markup = render_report(result)
    assert "<script" not in markup.lower()
    assert "<img" not in markup
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;.ipynb" in markup


def test_cell_events_are_listed_in_words() -> None:
    markup = render_report(graded_result())
    text = visible_text(markup)
    assert "Your notebook's cells" in text
    for number, _kind, words in CELL_EVENTS:
        assert f"Cell {number} {words}" in text
    assert "<code>x = np.zeros(3)</code>" in markup
    assert "<code>big = torch.zeros(10**12)</code>" in markup
    assert "timed out after 30 s" in text
    assert "Traceback (most recent call last):\n    x = np.zeros(3)\nNameError: np" in pre_blocks(
        markup
    )


def test_unknown_cell_kind_is_shown_as_is() -> None:
    result = graded_result()
    result.cells = [CellEvent(2, "mystery", "something odd")]
    assert "Cell 2 mystery" in visible_text(render_report(result))


def test_footer_shows_mode_seed_time_version_and_duration() -> None:
    text = visible_text(render_report(graded_result()))
    assert "graded: all checks" in text
    assert "random inputs were drawn with seed 424242; the same seed reproduces this grade" in (
        text.lower()
    )
    assert "2025-11-22T05:40:00+09:00" in text
    assert "0.1.0" in text
    assert "12.3 s" in text

    result = graded_result()
    result.mode = "check"
    text = visible_text(render_report(result))
    assert "self-check: visible checks only" in text
    assert "graded: all checks" not in text


@pytest.mark.parametrize("factory", [graded_result, ungradable_result])
def test_report_is_self_contained(factory: object) -> None:
    assert callable(factory)
    markup = render_report(factory()).lower()
    for forbidden in ("http://", "https://", "<link", 'src="http', "<script", "@import", "url("):
        assert forbidden not in markup
    assert "<style>" in markup
    assert '<meta name="viewport"' in markup


def test_ungradable_report_shows_reason_and_what_to_do() -> None:
    result = ungradable_result()
    text = visible_text(render_report(result))
    assert (
        "nngrade could not read this file as a notebook: the file is not valid JSON, "
        "line 1, column 1. Open it in Jupyter, save it, and hand it in again."
    ) in text
    assert "Could not be graded" in text
    assert "hw1 (1).ipynb" in text


def test_error_report_keeps_a_multi_line_reason() -> None:
    result = ungradable_result()
    result.status = "error"
    result.reason = "Traceback (most recent call last):\n  File 'x.py'\nRuntimeError: boom"
    markup = render_report(result)
    text = visible_text(markup)
    assert "nngrade itself failed while grading this notebook" in text
    assert "not in your work" in text
    assert result.reason in pre_blocks(markup)
    assert "Open it in Jupyter" not in text


# --- files -------------------------------------------------------------------------------------


def test_write_report_writes_id_html(tmp_path: Path) -> None:
    result = graded_result()
    path = write_report(result, tmp_path / "reports")
    assert path == tmp_path / "reports" / "2022021241-relu.html"
    assert path.read_text(encoding="utf-8") == render_report(result)


def test_grades_csv_has_header_and_one_row_per_result(tmp_path: Path) -> None:
    broken = ungradable_result()
    broken.reason = 'bad JSON, "quoted"\nsecond line'  # must survive csv quoting
    path = tmp_path / "grades.csv"
    write_grades_csv([graded_result(), broken], path)

    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == [
        "id",
        "submission",
        "score",
        "max_score",
        "status",
        "reason",
        "failed_checks",
        "report",
    ]
    assert len(rows) == 3
    graded, ungradable = (dict(zip(rows[0], row, strict=True)) for row in rows[1:])
    assert graded == {
        "id": "2022021241-relu",
        "submission": KOREAN_NAME,
        "score": "5.5",
        "max_score": "10",
        "status": "graded",
        "reason": "",
        "failed_checks": "relu_positives; relu_grad; relu_dtype",
        "report": "reports/2022021241-relu.html",
    }
    assert ungradable["status"] == "ungradable"
    assert ungradable["reason"] == broken.reason
    assert ungradable["failed_checks"] == ""
    assert ungradable["report"] == "reports/hw1-broken.html"


def test_results_json_round_trips(tmp_path: Path) -> None:
    results = [graded_result(), ungradable_result()]
    path = tmp_path / "results.json"
    write_results_json(results, path)

    raw = path.read_text(encoding="utf-8")
    assert "이다온" in raw  # ensure_ascii=False: readable, not \uXXXX
    data = json.loads(raw)
    assert isinstance(data["nngrade_version"], str) and data["nngrade_version"]
    assert [SubmissionResult.from_dict(d) for d in data["submissions"]] == results


def test_atomic_write_text_replaces_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "out" / "grades.csv"
    atomic_write_text(target, "old content that is longer than the new one\n")
    atomic_write_text(target, "새 내용\n")
    assert target.read_text(encoding="utf-8") == "새 내용\n"
    assert [p.name for p in target.parent.iterdir()] == ["grades.csv"]


def test_atomic_write_text_keeps_old_file_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "results.json"
    atomic_write_text(target, "complete old file")

    def crash(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(report.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "half a new file")
    assert target.read_text(encoding="utf-8") == "complete old file"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_atomic_write_text_makes_readable_files(tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    atomic_write_text(target, "x")
    assert os.stat(target).st_mode & 0o777 == 0o644


# --- terminal table ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2.0, "2"),
        (0.5, "0.5"),
        (7.5, "7.5"),
        (10, "10"),
        (0.0, "0"),
        (-0.0, "0"),
        (1 / 3, "0.33"),
        (0.1 + 0.2, "0.3"),
        (1.25, "1.25"),
    ],
)
def test_format_points(value: float, expected: str) -> None:
    assert format_points(value) == expected


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
