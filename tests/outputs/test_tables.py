"""Tests for grades.csv and results.json."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from grader.grading.results import SubmissionResult
from grader.outputs.tables import write_grades_csv, write_results_json
from tests.report_samples import KOREAN_NAME, graded_result, ungradable_result


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


def test_results_json_survives_a_lone_surrogate(tmp_path: Path) -> None:
    result = graded_result()
    result.checks[1].message = "odd output: \ud800 end"  # a lone surrogate cannot be UTF-8
    path = tmp_path / "results.json"
    write_results_json([result], path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert SubmissionResult.from_dict(data["submissions"][0]) == result
