"""Which library functions a student's function used while a check called it
(``notebook.call(..., watch=[...])``), and the rule checks built on it."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F  # noqa: N812 - as students write it
from torch.nn import BCELoss as L  # noqa: N817 - an alias, as a student may write it
from torch.nn.functional import binary_cross_entropy as bce_function

from grader.checks import CheckFailure, expect_called, expect_not_called
from grader.checks.notebook import in_process_notebook

BCE_FAMILY = ("torch.nn.BCELoss", "torch.nn.functional.binary_cross_entropy")
AUTOGRAD = ("torch.autograd.grad", "torch.autograd.backward", "torch.Tensor.backward")
RULE = "the assignment asks for BCE by formula"
Y_HAT, Y = torch.tensor([0.2, 0.7, 0.9]), torch.tensor([0.0, 1.0, 1.0])


def by_formula(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return -(y * torch.log(y_hat) + (1 - y) * torch.log(1 - y_hat)).mean()


def with_module(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.nn.BCELoss()(y_hat, y)


def with_alias(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return L()(y_hat, y)


def with_functional(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy(y_hat, y)


def with_imported_function(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return bce_function(y_hat, y)


def through_a_helper(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return with_functional(y_hat, y)


def gradient_by_backward(y_hat: torch.Tensor, y: torch.Tensor) -> Any:
    y_hat = y_hat.clone().requires_grad_()
    by_formula(y_hat, y).backward()
    return y_hat.grad


def gradient_by_grad(y_hat: torch.Tensor, y: torch.Tensor) -> Any:
    y_hat = y_hat.clone().requires_grad_()
    return torch.autograd.grad(by_formula(y_hat, y), y_hat)[0]


def raises_after_using(y_hat: torch.Tensor, y: torch.Tensor) -> None:
    F.binary_cross_entropy(y_hat, y)
    raise ValueError("late")


NOTEBOOK = in_process_notebook(
    by_formula=by_formula,
    with_module=with_module,
    with_alias=with_alias,
    with_functional=with_functional,
    with_imported_function=with_imported_function,
    through_a_helper=through_a_helper,
    gradient_by_backward=gradient_by_backward,
    gradient_by_grad=gradient_by_grad,
    raises_after_using=raises_after_using,
)


@pytest.mark.parametrize(
    ("name", "used"),
    [
        ("by_formula", {}),
        ("with_module", {"torch.nn.BCELoss": 1, "torch.nn.functional.binary_cross_entropy": 1}),
        ("with_alias", {"torch.nn.BCELoss": 1, "torch.nn.functional.binary_cross_entropy": 1}),
        ("with_functional", {"torch.nn.functional.binary_cross_entropy": 1}),
        ("with_imported_function", {"torch.nn.functional.binary_cross_entropy": 1}),
        ("through_a_helper", {"torch.nn.functional.binary_cross_entropy": 1}),
        ("gradient_by_backward", {"torch.Tensor.backward": 1, "torch.autograd.backward": 1}),
        ("gradient_by_grad", {"torch.autograd.grad": 1}),
        ("raises_after_using", {"torch.nn.functional.binary_cross_entropy": 1}),
    ],
)
def test_a_call_records_the_watched_functions_it_used(name: str, used: dict[str, int]) -> None:
    call = NOTEBOOK.call(name, Y_HAT, Y, watch=[*BCE_FAMILY, *AUTOGRAD])
    assert call.called == used
    assert call.watched == (*BCE_FAMILY, *AUTOGRAD)


def test_counts_say_how_often() -> None:
    def twice(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy(y_hat, y) + F.binary_cross_entropy(y, y_hat.round())

    call = in_process_notebook(twice=twice).call("twice", Y_HAT, Y, watch=BCE_FAMILY)
    assert call.called == {"torch.nn.functional.binary_cross_entropy": 2}


def test_nothing_is_recorded_unless_asked_and_the_profiler_is_given_back() -> None:
    import sys

    before = sys.getprofile()
    call = NOTEBOOK.call("with_functional", Y_HAT, Y)
    assert (call.watched, call.called) == ((), {})
    NOTEBOOK.call("with_functional", Y_HAT, Y, watch=BCE_FAMILY)
    assert sys.getprofile() is before


def test_a_name_whose_module_was_never_imported_is_never_imported() -> None:
    import sys

    call = NOTEBOOK.call("by_formula", Y_HAT, Y, watch=["nngrade_never_imported.grad"])
    assert call.called == {}
    assert "nngrade_never_imported" not in sys.modules


@pytest.mark.parametrize("name", ["with_module", "with_alias"])
def test_expect_not_called_names_what_the_student_wrote(name: str) -> None:
    call = NOTEBOOK.call(name, Y_HAT, Y, watch=BCE_FAMILY)
    with pytest.raises(CheckFailure) as failed:
        expect_not_called(call, *BCE_FAMILY, reason=RULE)
    assert str(failed.value).startswith(
        f"{name}(y_hat, y) uses `torch.nn.BCELoss` (whatever name your code gives it): "
        "the assignment asks for BCE by formula."
    )
    # Explained once, not charged once: every value check of a library BCE loses its points.
    assert failed.value.cause is None
    assert failed.value.short.startswith(f"{name}(")
    assert failed.value.short == (
        f"{name}(y_hat, y) uses `torch.nn.BCELoss`, which the assignment rules out."
    )


def test_expect_not_called_passes_a_function_written_by_formula() -> None:
    call = NOTEBOOK.call("by_formula", Y_HAT, Y, watch=BCE_FAMILY)
    expect_not_called(call, *BCE_FAMILY, reason=RULE)


def test_expect_called_fails_a_function_that_does_not_use_it() -> None:
    call = NOTEBOOK.call("gradient_by_grad", Y_HAT, Y, watch=AUTOGRAD)
    expect_called(call, "torch.autograd.grad", reason="the assignment asks for autograd")
    with pytest.raises(CheckFailure, match="does not use `torch.Tensor.backward`: it asks"):
        expect_called(call, "torch.Tensor.backward", reason="it asks")


def test_a_rule_about_an_unwatched_name_is_the_checks_fault() -> None:
    call = NOTEBOOK.call("with_module", Y_HAT, Y, watch=["torch.autograd.grad"])
    with pytest.raises(ValueError, match="was not watching torch.nn.BCELoss"):
        expect_not_called(call, "torch.nn.BCELoss", reason=RULE)
