"""Tests for grades.csv, results.json, atomic writes and the terminal table."""

from __future__ import annotations

import csv
import json
import os
import unicodedata
from pathlib import Path

import pytest

from grader.grading.results import SubmissionResult
from grader.outputs import report
from grader.outputs.report import (
    atomic_write_text,
    format_points,
    format_table,
    render_report,
    write_grades_csv,
    write_report,
    write_results_json,
)
from tests.report_samples import KOREAN_NAME, graded_result, ungradable_result

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
