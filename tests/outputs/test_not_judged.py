"""Every output shows a not-judged check as not judged (0 points, the reason, never a pass),
and a check whose mistake was counted under another as keeping its points."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from grader.grading.results import SubmissionResult
from grader.outputs.class_summary import _check_stats, render_summary
from grader.outputs.github import markdown_summary
from grader.outputs.gradescope import gradescope_result
from grader.outputs.junit import junit_xml
from grader.outputs.student_report import render_report
from grader.outputs.tables import write_grades_csv, write_results_json
from grader.outputs.terminal import format_table
from tests.report_samples import NOT_JUDGED_MESSAGE, not_judged_result

REASON = "Not judged because relu is already wrong on ordinary negative inputs"


def test_the_student_report_shows_not_judged_and_the_reason() -> None:
    page = render_report(not_judged_result())
    assert '<span class="badge not-judged">Not judged</span>' in page
    assert REASON in page
    # Only the failed check gets the failed badge; the counted one shows its kept points.
    assert page.count('<span class="badge failed">Failed</span>') == 2
    assert "2 / 2" in page and "already counted under" in page


def test_grades_csv_marks_the_not_judged_check(tmp_path: Path) -> None:
    path = tmp_path / "grades.csv"
    write_grades_csv([not_judged_result()], path)
    row = next(csv.DictReader(io.StringIO(path.read_text())))
    assert row["failed_checks"] == "test_relu; test_extreme (not judged); test_dW2"


def test_results_json_round_trips_the_outcome_and_the_cause(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    write_results_json([not_judged_result()], path)
    data = json.loads(path.read_text())["submissions"][0]
    back = SubmissionResult.from_dict(data)
    assert [c.outcome for c in back.checks] == ["failed", "not_judged", "failed"]
    assert back.checks[2].counted_under == "dW3" and back.checks[2].cause == "batch-size factor"


def test_gradescope_gives_zero_and_the_reason() -> None:
    tests = gradescope_result(not_judged_result())["tests"]
    extreme = tests[1]
    assert extreme["score"] == 0.0 and extreme["status"] == "failed"
    assert extreme["output"] == NOT_JUDGED_MESSAGE
    assert extreme["extra_data"]["outcome"] == "not_judged"


def test_junit_skips_it_with_the_reason() -> None:
    root = ET.fromstring(junit_xml([not_judged_result()]))
    suite = root.find("testsuite")
    assert suite is not None and suite.get("skipped") == "1" and suite.get("failures") == "2"
    assert root.get("skipped") == "1"
    case = next(c for c in suite.iter("testcase") if c.get("name") == "test_extreme")
    skipped = case.find("skipped")
    assert skipped is not None and case.find("failure") is None
    assert (skipped.get("message") or "").startswith(REASON)


def test_class_summary_counts_it_apart_from_failures() -> None:
    stats = {s.name: s for s in _check_stats([not_judged_result()])}
    assert stats["test_extreme"].not_judged == 1 and stats["test_extreme"].failed == 0
    assert stats["test_extreme"].passed == 0
    assert "not judged for 1 submission" in render_summary(
        [not_judged_result()], assignment_title="ReLU"
    )


def test_terminal_table_labels_it() -> None:
    lines = format_table(not_judged_result(), width=200).splitlines()
    assert lines[1].startswith("NOT JUDGED 0/1  relu handles infinities (hidden) - " + REASON)
    assert lines[0].startswith("FAIL       0/2")


def test_github_summary_marks_it() -> None:
    text = markdown_summary(not_judged_result(), title="ReLU", report=None)
    assert "| ➖ not judged | relu handles infinities | 0/1 |" in text
    assert "#### Failed and not judged checks" in text and REASON in text
