"""Compare the layers a student's PyTorch model runs with the architecture asked for."""

from __future__ import annotations

from collections.abc import Sequence

from grader.checks._torch_routines import LayerCall
from grader.checks.failures import CheckFailure

__all__ = ["expect_layers"]


def expect_layers(calls: Sequence[LayerCall], expected: Sequence[str], *, what: str) -> None:
    """Fail, naming the first layer that differs, unless the layers called (in the order
    ``forward`` called them: ``trace_model(...).calls``) are ``expected``, written as
    ``LayerCall.name`` writes them (``"Linear(784, 64)"``, ``"ReLU"``)."""
    got = [call.name for call in calls]
    if got == list(expected):
        return
    summary = f"{what} runs {_listing(got)}; expected {_listing(expected)}, in this order."
    index = next(
        (i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b),
        min(len(got), len(expected)),
    )
    if index < len(got) and index < len(expected):
        detail = f"Layer {index + 1} is {got[index]} where {expected[index]} was expected."
        if _swapped(got[index], expected[index]):
            detail += " Its in_features and out_features are swapped: nn.Linear(in, out)."
    elif len(got) < len(expected):
        detail = f"Missing at the end: {', '.join(expected[index:])}."
    else:
        detail = f"Not expected at the end: {', '.join(got[index:])}."
    raise CheckFailure(f"{summary}\n{detail}")


def _listing(names: Sequence[str]) -> str:
    return " → ".join(names) if names else "no layers"


def _swapped(got: str, expected: str) -> bool:
    if not (got.startswith("Linear(") and expected.startswith("Linear(")):
        return False
    return got[7:-1].split(", ")[::-1] == expected[7:-1].split(", ")
