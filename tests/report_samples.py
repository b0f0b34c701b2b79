"""Hand-made results shared by the report tests: every check outcome and cell event kind."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from grader.grading.results import CellEvent, CheckResult, SubmissionResult

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


# (name, description, points, hidden) of the checks in the class samples below.
CheckSpec = tuple[str, str, float, bool]
SMALL_CHECKS: tuple[CheckSpec, ...] = (
    ("A", "check A", 2.0, False),
    ("B", "check B", 2.0, False),
    ("C", "check C", 2.0, False),
    ("D", "check D", 4.0, True),
)


def student_result(
    sid: str,
    failing: Mapping[str, str] | None = None,
    *,
    checks: Sequence[CheckSpec] = SMALL_CHECKS,
    submission: str | None = None,
    duration: float = 1.0,
) -> SubmissionResult:
    """A graded submission that fails the checks in ``failing`` (name -> message)."""
    failing = failing or {}
    results = [
        CheckResult(
            name,
            description,
            0.0 if name in failing else points,
            points,
            name not in failing,
            failing.get(name, ""),
            hidden=hidden,
            outcome="failed" if name in failing else "passed",
        )
        for name, description, points, hidden in checks
    ]
    return SubmissionResult(
        sid,
        submission or f"{sid}.ipynb",
        f"/in/{sid}.ipynb",
        "relu",
        "graded",
        score=sum(c.points for c in results),
        max_score=sum(c.max_points for c in results),
        seed=11,
        checks=results,
        duration=duration,
        nngrade_version="0.1.0",
    )


def not_graded_result(
    sid: str, status: str, reason: str, *, duration: float = 0.0
) -> SubmissionResult:
    """An ungradable submission (``status="ungradable"``) or one nngrade failed on ("error")."""
    return SubmissionResult(
        sid, f"{sid}.ipynb", f"/in/{sid}.ipynb", "relu", status, reason=reason, duration=duration
    )


def nngrade_error_result() -> SubmissionResult:
    """A submission nngrade itself failed on, with a multi-line reason."""
    reason = "nngrade failed: RuntimeError: boom\n  File grading.py, line 3"
    return not_graded_result("crashed", "error", reason, duration=2.5)


CLASS_CHECKS: tuple[CheckSpec, ...] = (
    ("relu_negatives", "relu returns 0 for negative inputs", 2.0, False),
    ("relu_positives", "relu keeps positive values", 3.0, False),
    ("d_relu_at_zero", "d_relu is 0 at x = 0", 2.0, False),
    ("relu_grad", "gradient matches autograd", 3.0, True),
)
# Failure messages by check; the first line is what the summary counts.
CLASS_MESSAGES = {
    "relu_positives": "relu(x) returned the wrong values.\n  got: [0.0, 0.0]",
    "d_relu_at_zero": "d_relu(0) returned 1.0; the derivative at 0 is taken as 0.",
    "relu_grad": "The gradient differs.\n  expected: 0.0",
}


def class_results(count: int) -> list[SubmissionResult]:
    """A deterministic class: most students fail d_relu_at_zero, some relu_positives, every
    seventh submission is ungradable and one in 50 hit an nngrade error."""
    results = []
    for n in range(count):
        sid = f"s{n:03d}"
        if n % 7 == 3:
            reason = "the file is not valid JSON"
            results.append(not_graded_result(sid, "ungradable", reason, duration=0.01 * n))
        elif n % 50 == 5:
            reason = "nngrade failed: RuntimeError: boom\nTraceback line"
            results.append(not_graded_result(sid, "error", reason, duration=1.0))
        else:
            failing = {"d_relu_at_zero"} if n % 4 else set()
            if n % 3 == 0:
                failing.add("relu_positives")
            if n % 10 == 0:
                failing.add("relu_grad")
            messages = {name: CLASS_MESSAGES[name] for name in failing}
            duration = 1.0 + (n % 13) * 0.5
            results.append(student_result(sid, messages, checks=CLASS_CHECKS, duration=duration))
    return results


NOT_JUDGED_MESSAGE = (
    "Not judged because relu is already wrong on ordinary negative inputs; see the checks of "
    "relu's values above."
)
COUNTED_MESSAGE = (
    'No points lost: the same mistake (batch-size factor) was already counted under "dW3".\n'
    "Every value is 7 times the expected one."
)


def not_judged_result() -> SubmissionResult:
    """A graded submission with a not-judged check and one whose cause was counted before."""
    checks = [
        CheckResult(
            "test_relu",
            "relu is max(0, x)",
            0.0,
            2.0,
            False,
            "relu(x) returned x",
            outcome="failed",
        ),
        CheckResult(
            "test_extreme",
            "relu handles infinities",
            0.0,
            1.0,
            False,
            NOT_JUDGED_MESSAGE,
            hidden=True,
            outcome="not_judged",
        ),
        CheckResult(
            "test_dW2",
            "dW2",
            2.0,
            2.0,
            False,
            COUNTED_MESSAGE,
            outcome="failed",
            cause="batch-size factor",
            counted_under="dW3",
        ),
    ]
    return SubmissionResult(
        "nj",
        "nj.ipynb",
        "/in/nj.ipynb",
        "relu",
        "graded",
        score=2.0,
        max_score=5.0,
        checks=checks,
    )
