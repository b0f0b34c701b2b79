"""Each command hands its options to one library function, with the dataclasses' defaults,
and turns what comes back into the same lines and exit codes. No kernels: the library
functions are replaced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from grader.batch.check import CheckRun
from grader.batch.executor import ExecutorUnavailable, LocalExecutor
from grader.batch.grade import BatchRun, ExecutorLost, Interrupted, NoSubmissions, default_workers
from grader.cli import commands, course
from grader.cli.commands import main
from grader.grading.assignment import Assignment
from grader.grading.engine import GradingOptions, new_result
from grader.runner.limits import GiB, Limits, MiB, parse_size
from tests.conftest import NOTEBOOKS, RELU

SETTINGS = [
    *("--timeout", "5", "--notebook-timeout", "60", "--seed", "3", "--sandbox", "none"),
    *("--memory", "1G", "--cpu-time", "10", "--max-processes", "16"),
    *("--max-file-size", "1M", "--max-value-size", "2M", "--lang", "ko"),
]
CHOSEN = GradingOptions(
    cell_timeout=5.0,
    notebook_timeout=60.0,
    seed=3,
    sandbox="none",
    limits=Limits(memory=GiB, cpu_time=10, processes=16, file_size=MiB, value_size=2 * MiB),
    lang="ko",
)


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def replace_grade_into(monkeypatch: pytest.MonkeyPatch, outcome: Any = None) -> dict[str, Any]:
    """``grade_into`` recording its arguments; it raises ``outcome`` if it is an exception."""
    seen: dict[str, Any] = {}

    def grade_into(
        assignment: Assignment, sources: Any, out_dir: Path, options: GradingOptions, **kw: Any
    ) -> BatchRun:
        seen.update(kw, assignment=assignment, sources=sources, out_dir=out_dir, options=options)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome or BatchRun([], [])

    monkeypatch.setattr(commands, "grade_into", grade_into)
    return seen


def test_grade_passes_the_defaults_of_grading_options(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen = replace_grade_into(monkeypatch)
    code, stdout, _ = invoke("grade", RELU, NOTEBOOKS, "--out", tmp_path)
    assert code == 0 and "Graded 0 of 0 submissions" in stdout
    assert seen["options"] == GradingOptions()
    assert seen["sources"] == (NOTEBOOKS,) and seen["out_dir"] == tmp_path
    assert seen["assignment"].root == RELU.resolve() and seen["force"] is False
    assert isinstance(seen["executor"], LocalExecutor)
    assert seen["executor"].workers == default_workers()


def test_grade_passes_every_option_given(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen = replace_grade_into(monkeypatch)
    code, _, _ = invoke(
        "grade", RELU, NOTEBOOKS, "--out", tmp_path, "--workers", "3", "--force", *SETTINGS
    )
    assert code == 0
    assert seen["options"] == CHOSEN and seen["force"] is True and seen["executor"].workers == 3
    # In the assignment too: its version changes, so results in English are graded again.
    assert seen["assignment"].lang == "ko"
    assert seen["assignment"].version != Assignment.load(RELU).version


def test_grade_prints_the_counts_and_files_and_exits_1_on_nngrade_errors(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assignment = Assignment.load(RELU)
    results = [new_result(assignment, GradingOptions(), id, id, id) for id in "abc"]
    results[1].status, results[2].status = "ungradable", "error"
    (tmp_path / "reports").mkdir()
    written = [("Grades", tmp_path / "grades.csv"), ("Reports", tmp_path / "reports")]
    replace_grade_into(monkeypatch, BatchRun(results, written))
    code, stdout, _ = invoke("grade", RELU, NOTEBOOKS, "--out", tmp_path)
    assert code == 1
    assert stdout.endswith(
        "\nGraded 1 of 3 submissions (1 ungradable, 1 nngrade errors).\n"
        f"Grades:     {tmp_path / 'grades.csv'}\nReports:    {tmp_path / 'reports'}/\n"
    )


@pytest.mark.parametrize(
    ("outcome", "code", "message"),
    [
        (
            Interrupted("", stored=2, total=5),
            130,
            "\nInterrupted: 2 of 5 submissions are graded and stored. "
            "Run the same command again to grade the rest.\n",
        ),
        (
            ExecutorLost("lost the scheduler", stored=2, total=5),
            2,
            "nngrade: error: lost the scheduler\n2 of 5 submissions are graded and stored. "
            "Run the same command again to grade the rest.\n",
        ),
        (
            ExecutorLost("cannot reach the scheduler", stored=0, total=5),
            2,
            "nngrade: error: cannot reach the scheduler\n",
        ),
        (
            NoSubmissions("no notebooks found in the given paths"),
            2,
            "nngrade: error: no notebooks found in the given paths\n",
        ),
    ],
)
def test_a_stopped_batch_keeps_its_messages_and_exit_codes(
    outcome: BaseException,
    code: int,
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    replace_grade_into(monkeypatch, outcome)
    got, _, stderr = invoke("grade", RELU, NOTEBOOKS, "--out", tmp_path)
    assert (got, stderr) == (code, message)
    assert isinstance(outcome, (KeyboardInterrupt, ExecutorUnavailable, NoSubmissions))


def replace_check_notebook(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def check_notebook(notebook: Path, options: GradingOptions, **kw: Any) -> CheckRun:
        seen.update(kw, notebook=notebook, options=options)
        assignment = Assignment.load(RELU)
        return CheckRun(assignment, new_result(assignment, options, "mine", "mine", "mine"))

    monkeypatch.setattr(commands, "check_notebook", check_notebook)
    return seen


def test_check_passes_the_defaults_and_every_option_given(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    seen = replace_check_notebook(monkeypatch)
    code, stdout, _ = invoke("check", "mine.ipynb")
    assert code == 0 and stdout.startswith("ReLU and its derivative (")
    assert seen["notebook"] == Path("mine.ipynb") and seen["options"] == GradingOptions()
    assert (seen["assignment_dir"], seen["report_dir"]) == (None, None)
    assert seen["ci"].junit is None and seen["ci"].json is None and seen["ci"].step_summary is None
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    outputs: list[str | Path] = ["--junit", tmp_path / "j.xml", "--json", tmp_path / "r.json"]
    code, _, _ = invoke(
        "check", "mine.ipynb", "--assignment", RELU, "--report", tmp_path, *outputs, *SETTINGS
    )
    assert code == 0 and seen["options"] == CHOSEN
    assert (seen["assignment_dir"], seen["report_dir"]) == (RELU, tmp_path)
    assert (seen["ci"].junit, seen["ci"].json) == (tmp_path / "j.xml", tmp_path / "r.json")
    assert seen["ci"].step_summary == summary


def test_gradescope_commands_pass_the_default_timeouts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: dict[str, Any] = {}

    def build_autograder(assignment: Assignment, out: Path, **kw: Any) -> Path:
        seen.update(kw)
        return out

    def run_autograder(root: Path, options: GradingOptions) -> dict[str, Any]:
        seen["options"] = options
        return {"output": "", "score": 0.0}

    monkeypatch.setattr(course, "build_autograder", build_autograder)
    monkeypatch.setattr(course, "run_autograder", run_autograder)
    assert invoke("gradescope", RELU, "--out", tmp_path / "a.zip")[0] == 0
    defaults = GradingOptions()
    assert (seen["cell_timeout"], seen["notebook_timeout"]) == (
        defaults.cell_timeout,
        defaults.notebook_timeout,
    )
    assert invoke("gradescope-run", tmp_path)[0] == 0
    assert seen["options"] == defaults


def test_the_help_shows_the_dataclasses_defaults() -> None:
    _, stdout, _ = invoke("grade", "--help")
    flat = " ".join(stdout.split())
    options, limits = GradingOptions(), Limits()
    sizes = {"--memory": "2G", "--max-file-size": "256M", "--max-value-size": "64M"}
    assert [parse_size(size) for size in sizes.values()] == [
        limits.memory,
        limits.file_size,
        limits.value_size,
    ]
    shown = {
        "--timeout": options.cell_timeout,
        "--notebook-timeout": options.notebook_timeout,
        "--cpu-time": limits.cpu_time,
        "--max-processes": limits.processes,
        "--sandbox": options.sandbox,
        **sizes,
    }
    for option, default in shown.items():
        after = flat[flat.index(f"{option} ") :]  # the next default shown is this option's
        assert after[after.index("[default: ") :].startswith(f"[default: {default}"), option
