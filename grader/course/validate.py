"""``nngrade validate``: an assignment checked before it is handed out.

What it finds, each a ``Finding`` named after what is wrong:
- ``imports``: a visible check imports a package or a hidden check (import_rule.py);
- ``points``: a check without a points marker, or worth nothing;
- ``solution``: a check the solution does not pass, with the seeds it fails on;
- ``flaky``: a check whose verdict changed between two runs of the same seed;
- ``template``: a check that gives points to the template (it judges no student code), or a
  template that is missing or is not what ``nngrade assign`` makes of the solution;
- ``bundle``: the student bundle could not be built;
- ``expect``: a known notebook whose score differs from the expected-scores file.

The solution and the template are the instructor's own code: they run in this process
(in_process.py), once each, and the checks run against them on every seed. A solution
that cannot run here (an IPython magic, a cell that raises) is graded in a kernel instead,
one per seed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from grader.course.assign import has_markers, read_solution, template_bytes
from grader.course.bundle import bundle
from grader.course.expect import check_expected, read_expected
from grader.course.import_rule import forbidden_imports
from grader.course.in_process import quiet, run_in_process
from grader.course.point_table import PointRow, missing_points, point_rows, points_markers
from grader.course.wheel import WheelError
from grader.grading.assignment import Assignment, AssignmentError
from grader.grading.engine import CheckSuiteError, GradingOptions, grade_notebook, run_checks
from grader.grading.results import CheckResult
from grader.runner.transport import InProcessTransport

__all__ = ["Finding", "Validation", "validate"]

DEFAULT_SEEDS = 20
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Finding:
    kind: str
    text: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.text}"


@dataclass
class Validation:
    assignment: Assignment
    findings: list[Finding] = field(default_factory=list)
    table: list[PointRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, kind: str, text: str) -> None:
        self.findings.append(Finding(kind, text))


# One grading of a notebook on a seed: its checks' results.
_Grade = Callable[[int], list[CheckResult]]


def validate(
    assignment: Assignment,
    *,
    seeds: int = DEFAULT_SEEDS,
    expect: Path | None = None,
    kernel: bool = False,
    progress: Progress | None = None,
) -> Validation:
    """Every finding about ``assignment``; none means it is ready to hand out. Raises
    ``ExpectError`` for a malformed expected-scores file."""
    say = progress or (lambda _: None)
    expected = read_expected(expect) if expect is not None else []
    report = Validation(assignment)
    for item in forbidden_imports(assignment):
        report.add("imports", f"{item}, which students do not get: move the check to a hidden file")
    for check in missing_points(assignment):
        report.add("points", f"{check} has no @pytest.mark.points(n)")
    if assignment.solution is None or not assignment.solution.is_file():
        report.add("solution", "the assignment has no solution notebook ('solution' in its toml)")
    else:
        if any(finding.kind == "points" for finding in report.findings):
            report.notes.append(
                "The solution and the template were not graded: a check without points "
                "stops the checks from loading."
            )
        else:
            _grade_solution(assignment, assignment.solution, seeds, kernel, report, say)
        _check_template_file(assignment, assignment.solution, report)
    if any(finding.kind == "imports" for finding in report.findings):
        report.notes.append("The bundle was not built: nngrade bundle refuses these imports.")
    else:
        _check_bundle(assignment, report, say)
    if expected:
        say(f"Grading {len(expected)} known notebooks in kernels (--expect {expect})")
        for text in check_expected(assignment, expected):
            report.add("expect", text)
    return report


def _grade_solution(
    assignment: Assignment,
    solution: Path,
    seeds: int,
    kernel: bool,
    report: Validation,
    say: Progress,
) -> None:
    if not kernel and _graded_in_process(assignment, solution, seeds, report, say):
        return
    say(f"Grading the solution in kernels on {seeds} seeds")
    template = assignment.template
    if _judge_solution(_in_kernel(assignment, solution), seeds, report) and (
        template is not None and template.is_file()
    ):
        _judge_template(_in_kernel(assignment, template), report)


def _graded_in_process(
    assignment: Assignment, solution: Path, seeds: int, report: Validation, say: Progress
) -> bool:
    """Grade the solution and the template here; False (with a note) when the solution
    cannot run here, and kernels must grade it."""
    with run_in_process(assignment, solution) as ran:
        if ran.errors:
            cell, text = ran.errors[0]
            report.notes.append(
                f"The solution's cell {cell} cannot run in this process ({text}): graded in "
                "a kernel, one per seed."
            )
            return False
        say(f"Grading the solution in this process on {seeds} seeds")
        if not _judge_solution(_in_process(assignment, ran.namespace), seeds, report):
            return True
    template = assignment.template
    if template is not None and template.is_file():
        with run_in_process(assignment, template) as ran:
            _judge_template(_in_process(assignment, ran.namespace), report)
    return True


def _in_process(assignment: Assignment, namespace: dict[str, object]) -> _Grade:
    def grade(seed: int) -> list[CheckResult]:
        transport = InProcessTransport(namespace)
        with quiet():
            return run_checks(assignment, transport, seed=seed, include_hidden=True)

    return grade


def _in_kernel(assignment: Assignment, notebook: Path) -> _Grade:
    def grade(seed: int) -> list[CheckResult]:
        result = grade_notebook(assignment, notebook, GradingOptions(seed=seed))
        if result.status != "graded":
            raise CheckSuiteError(f"{notebook.name} was not graded: {result.reason}")
        return result.checks

    return grade


def _judge_solution(grade: _Grade, seeds: int, report: Validation) -> bool:
    """Full marks on every seed, the same verdicts when a seed is run again; the point table.
    False when the checks could not run at all."""
    failing: dict[str, list[tuple[int, str]]] = {}
    runs: dict[int, list[CheckResult]] = {}
    try:
        for seed in range(seeds):
            runs[seed] = grade(seed)
            for check in runs[seed]:
                if not check.passed:
                    failing.setdefault(check.name, []).append((seed, _first_line(check)))
        # Once more: the first seed, and every seed something failed on.
        again = sorted({0} | {seed for cases in failing.values() for seed, _ in cases})
        reruns = {seed: grade(seed) for seed in again if seed in runs}
    except CheckSuiteError as exc:
        report.add("checks", f"the checks could not run: {exc}")
        return False
    report.table = point_rows(runs[0], points_markers(report.assignment)) if runs else []
    for name, cases in failing.items():
        seeds_text = ", ".join(str(seed) for seed, _ in cases)
        plural = "s" if len(cases) > 1 else ""
        report.add(
            "solution",
            f"{name} does not pass the solution on seed{plural} {seeds_text} "
            f"(of 0-{seeds - 1}): {cases[0][1]}",
        )
    for seed, results in reruns.items():
        _compare_runs(runs[seed], results, f"seed {seed}", report)
    for row in report.table:
        if row.total <= 0:
            report.add("points", f"{row.check} is worth no points")
    return True


def _judge_template(grade: _Grade, report: Validation) -> None:
    try:
        first, second = grade(0), grade(0)
    except CheckSuiteError as exc:
        report.add("template", f"the checks could not run on the template: {exc}")
        return
    for check in first:
        if check.points > 0:
            report.add(
                "template",
                f"{check.name} gives the template {check.points:g} of {check.max_points:g} "
                "points: it should judge the student's code, which the template does not have",
            )
    _compare_runs(first, second, "the template, seed 0", report)


def _compare_runs(
    first: list[CheckResult], second: list[CheckResult], what: str, report: Validation
) -> None:
    before = {check.name: check.outcome for check in first}
    for check in second:
        if check.name in before and before[check.name] != check.outcome:
            report.add(
                "flaky",
                f"{check.name} was {before[check.name]} then {check.outcome} on two runs of "
                f"{what}: its verdict depends on something besides the seed (an unseeded "
                "random generator, the time, another check's state); draw inputs from the "
                "rng fixture",
            )


def _check_template_file(assignment: Assignment, solution: Path, report: Validation) -> None:
    template = assignment.template
    if template is None or not template.is_file():
        report.add("template", "there is no template notebook: run nngrade assign on the solution")
        return
    try:
        if not has_markers(read_solution(solution)):
            return  # a template written by hand: nothing to compare it with
        made = template_bytes(solution, assignment)
    except ValueError as exc:
        report.add("template", f"nngrade assign cannot make it from the solution: {exc}")
        return
    if template.read_bytes() != made:
        report.add(
            "template",
            f"{template.name} is not what nngrade assign makes of {solution.name} (edited by "
            "hand, or the solution or checks changed since): run nngrade assign again",
        )


def _check_bundle(assignment: Assignment, report: Validation, say: Progress) -> None:
    say("Building the student bundle in a temporary folder")
    with tempfile.TemporaryDirectory(prefix="nngrade-bundle-") as scratch:
        try:
            bundle(assignment, Path(scratch) / "bundle")
        except (AssignmentError, WheelError, OSError) as exc:
            report.add("bundle", f"the student bundle cannot be built: {exc}")


def _first_line(check: CheckResult) -> str:
    lines = check.message.strip().splitlines()
    return f"{check.outcome}: {lines[0]}" if lines else str(check.outcome)
