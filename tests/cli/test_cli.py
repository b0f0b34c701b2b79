"""The command line, through click's CliRunner: outputs written, exit codes, one-line errors."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli.commands import main
from tests.conftest import NOTEBOOKS, RELU


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.kernel
def test_grade_writes_csv_json_and_reports(tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    batch.mkdir()
    shutil.copy(NOTEBOOKS / "correct.ipynb", batch / "2022021241_이다온.ipynb")
    shutil.copy(NOTEBOOKS / "d_relu_inplace.ipynb", batch)
    (batch / "broken.ipynb").write_text("{not json")
    out = tmp_path / "out"
    code, stdout, _ = invoke(
        "grade", RELU, batch, tmp_path / "missing.ipynb", "--out", out, "--seed", "5"
    )
    assert code == 0, stdout
    lines = (out / "grades.csv").read_text(encoding="utf-8").splitlines()
    rows = {r["submission"]: r for r in csv.DictReader(lines)}
    assert rows["2022021241_이다온.ipynb"]["score"] == "10"
    assert rows["d_relu_inplace.ipynb"]["score"] == "9"
    assert rows["broken.ipynb"]["status"] == "ungradable"
    assert "not valid JSON" in rows["broken.ipynb"]["reason"]
    assert rows["missing.ipynb"]["status"] == "ungradable"
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert len(data["submissions"]) == 4
    assert all(s["seed"] == 5 for s in data["submissions"])
    reports = sorted(p.name for p in (out / "reports").iterdir())
    assert reports == sorted(f"{r['id']}.html" for r in rows.values())
    html = (out / "reports" / f"{rows['d_relu_inplace.ipynb']['id']}.html").read_text()
    assert "changed its argument x in place" in html
    assert "Reports:" in stdout and "Graded 2 of 4 submissions" in stdout


@pytest.mark.kernel
def test_check_passing_notebook_exits_0(tmp_path: Path) -> None:
    notebook = tmp_path / "mine.ipynb"
    shutil.copy(NOTEBOOKS / "correct.ipynb", notebook)
    code, stdout, _ = invoke("check", notebook, "--assignment", RELU)
    assert code == 0, stdout
    assert "9/9" in stdout.replace(" ", "")  # the hidden check is not run
    assert (tmp_path / "mine.html").is_file() and "Report:" in stdout


@pytest.mark.kernel
def test_check_failing_notebook_exits_1(tmp_path: Path) -> None:
    code, stdout, _ = invoke(
        "check", NOTEBOOKS / "d_relu_zero_wrong.ipynb", "--assignment", RELU, "--report", tmp_path
    )
    assert code == 1
    # The table cuts messages to the terminal's width: the first words say what failed.
    failed = [line for line in stdout.splitlines() if line.startswith("FAIL ")]
    assert failed and "d_relu(x) returned wrong" in failed[0]


def test_check_unreadable_notebook_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ipynb"
    bad.write_text('{"nbformat": 3, "worksheets": []}')  # a damaged nbformat 3 file
    code, stdout, stderr = invoke("check", bad, "--assignment", RELU)
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1 and "could not be converted from version 3" in stderr


def test_check_missing_notebook_and_bad_assignment(tmp_path: Path) -> None:
    code, _, stderr = invoke("check", tmp_path / "nope.ipynb", "--assignment", RELU)
    assert code == 2 and "no such file" in stderr
    code, _, stderr = invoke("check", NOTEBOOKS / "correct.ipynb", "--assignment", tmp_path)
    assert code == 2 and "not an assignment folder" in stderr
