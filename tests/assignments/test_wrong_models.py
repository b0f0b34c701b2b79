"""The catalogue of wrong models: no network a student writes makes a check `error`.

torch_mlp's ``Net`` (a class) and bce's ``net`` (an object) run inside the kernel's
routines, which read what their ``forward`` returns. Here each is replaced, in process,
by a model that returns the wrong thing (None, a tuple, a NumPy array, a wrong shape, NaN,
integers), raises, has no parameters or cannot be made, or is no nn.Module at all; every
check that uses the model must end passed or failed (or not judged), never error.
(train and evaluate of torch_mlp run with a stand-in network, and their wrong returns are
in test_wrong_returns.py.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import nn

from tests.direct_checks import errors, failures, run
from tests.solution_support import solution_namespace

# Minutes of in-process grading: make test runs it, make test-fast does not.
pytestmark = pytest.mark.slow


class Wrapped(nn.Module):
    """The solution's network with its output passed through ``change``."""

    def __init__(self, inner: nn.Module, change: Callable[[torch.Tensor], Any]) -> None:
        super().__init__()
        self.inner, self.change = inner, change

    def forward(self, x: torch.Tensor) -> Any:
        return self.change(self.inner(x))


def _raise(_: torch.Tensor) -> Any:
    raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (5x784 and 100x10)")


CHANGES: dict[str, Callable[[torch.Tensor], Any]] = {
    "None": lambda out: None,
    "tuple": lambda out: (out, out),
    "numpy": lambda out: out.detach().numpy(),
    "wrong shape": lambda out: out[:, :1].repeat(1, 5),
    "extra dim": lambda out: out[None],
    "nan": lambda out: out * float("nan"),
    "int": lambda out: out.round().long(),
    "list": lambda out: out.tolist(),
    "raises": _raise,
}


class NoParameters(nn.Module):
    """A model with nothing to train: zeros of the right shape."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros(len(x), 10)


class NeedsArguments(nn.Module):
    """A class that cannot be made with no arguments."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.layer = nn.Linear(784, hidden)


def not_a_module(x: torch.Tensor) -> torch.Tensor:
    return x


def torch_mlp_nets() -> dict[str, object]:
    solution = solution_namespace("torch_mlp")["Net"]

    def net_class(change: Callable[[torch.Tensor], Any]) -> type[nn.Module]:
        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.wrapped = Wrapped(solution(), change)

            def forward(self, x: torch.Tensor) -> Any:
                return self.wrapped(x)

        return Net

    found: dict[str, object] = {kind: net_class(change) for kind, change in CHANGES.items()}
    found |= {
        "no parameters": NoParameters,
        "needs arguments": NeedsArguments,
        "a function": not_a_module,
        "an object": object(),
        "None": None,
    }
    return found


TORCH_MLP_NETS = torch_mlp_nets()


@pytest.mark.parametrize("kind", TORCH_MLP_NETS)
def test_a_wrong_torch_mlp_net_never_errors(kind: str) -> None:
    namespace = {**solution_namespace("torch_mlp"), "Net": TORCH_MLP_NETS[kind]}
    # Every check that runs Net (train and evaluate run a stand-in network).
    outcomes = run("torch_mlp", namespace, 0, only=lambda name: "train" not in name)
    assert "test_architecture" in outcomes
    assert errors(outcomes) == {}
    assert failures(outcomes)


def bce_nets() -> dict[str, object]:
    solution = solution_namespace("bce")["net"]
    found: dict[str, object] = {
        kind: Wrapped(solution, change) for kind, change in CHANGES.items() if kind != "None"
    }
    found |= {
        "no parameters": NoParameters(),
        "a function": not_a_module,
        "a class": type(solution),
        "an object": object(),
        "None": None,
    }
    return found


BCE_NETS = bce_nets()


@pytest.mark.parametrize("kind", BCE_NETS)
def test_a_wrong_bce_net_never_errors(kind: str) -> None:
    namespace = {**solution_namespace("bce"), "net": BCE_NETS[kind]}
    outcomes = run("bce", namespace, 0, only=lambda name: "net" in name or "training" in name)
    assert "test_net_architecture" in outcomes
    assert errors(outcomes) == {}
    # An output of shape (1, n, 1) computes the right probabilities: no check minds it.
    assert failures(outcomes) or kind == "extra dim"
