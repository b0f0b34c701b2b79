"""Hand-made results shared by the report tests: every check outcome and cell event kind."""

from __future__ import annotations

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
