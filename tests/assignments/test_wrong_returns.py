"""The catalogue of wrong returns: no value a student's function returns makes a check `error`.

`error` is for a fault of a check or of the reference; anything a student's code returns
is that student's to answer for, with a message about the value. So every check of every
assignment runs here, in process, on the solution with one of its functions (or, for
the layers assignment, methods) made to return each kind of wrong value, and must end
passed or failed (or not judged), never error.

The activations assignment's MyReLU (a torch.autograd.Function) gets its own catalogue:
its forward's and backward's returns. torch_mlp's Net and bce's net (nn.Modules run inside
the kernel's routines) are in test_wrong_models.py; their train/evaluate and
bce_loss/accuracy returns are covered here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from tests.direct_checks import errors, failures, run
from tests.solution_support import solution_namespace

# Minutes of in-process grading: make test runs it, make test-fast does not.
pytestmark = pytest.mark.slow


class Opaque:
    """An object of no type a check knows: it crosses the boundary as a handle."""


def _array_wrong(kind: str, value: np.ndarray) -> object:
    if kind == "transposed":
        return value.T if value.ndim >= 2 else value[:, None] if value.ndim == 1 else value
    if kind == "extra_dim":
        return value[None]
    if kind == "int":
        return np.rint(value).astype(np.int64)
    if kind == "float32":
        return value.astype(np.float32)
    if kind == "torch":
        return torch.as_tensor(value)
    if kind == "nan":
        return np.full(value.shape, np.nan)
    if kind == "inf":
        return np.full(value.shape, np.inf)
    if kind == "huge":
        return np.ones((1000, 1000))
    if kind == "object":
        return Opaque()
    if kind == "string":
        return "wrong"
    if kind == "list":
        return value.tolist()
    raise AssertionError(kind)


def wrong(kind: str, value: Any) -> Any:
    """The ``kind`` of wrong value a careless function returns instead of ``value``."""
    if kind == "none":
        return None
    if kind == "scalar":
        return 0.5
    if isinstance(value, dict):
        if kind == "tuple":
            return tuple(value.values())
        if kind == "missing_key":
            return dict(list(value.items())[1:])
        if kind == "extra_key":
            return {**value, "extra": np.zeros(3)}
        if kind == "list":
            return list(value.values())
        return {key: wrong(kind, item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        if kind in ("tuple", "missing_key"):
            return tuple(value[:-1])
        if kind == "extra_key":
            return (*value, 0.0)
        return type(value)(wrong(kind, item) for item in value)
    if isinstance(value, torch.Tensor):
        if kind == "torch":  # NumPy where a tensor is expected
            return value.detach().numpy()
        if value.ndim == 0 and kind in ("transposed", "extra_dim"):
            return torch.full((2, 1), float(value))
        return torch.as_tensor(_array_wrong(kind, value.detach().numpy()))
    if isinstance(value, float | int | np.generic):
        if kind in ("tuple", "missing_key"):
            return (value, value) if kind == "tuple" else ()
        if kind == "extra_key":
            return {"value": value}
        if kind in ("transposed", "extra_dim"):  # a number has no axes to swap: two of it
            return np.full((2, 1), value, dtype=np.float64)
        return wrong(kind, np.asarray(value, dtype=np.float64))
    if isinstance(value, np.ndarray):
        if kind in ("tuple", "missing_key", "extra_key"):
            return {"tuple": tuple(value), "missing_key": {}, "extra_key": {"x": value}}[kind]
        try:
            return _array_wrong(kind, value)
        except (AssertionError, ValueError):
            return value
    return value  # a handle, a module: left as it is


KINDS = (
    "none",
    "list",
    "tuple",
    "missing_key",
    "extra_key",
    "scalar",
    "transposed",
    "extra_dim",
    "int",
    "float32",
    "torch",
    "nan",
    "inf",
    "huge",
    "object",
    "string",
)


# Returns that hold the right values in another container or dtype: a check may accept them.
ACCEPTABLE = {"list", "extra_key", "int", "float32", "torch"}


def returning(kind: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return wrong(kind, function(*args, **kwargs))

    return wrapper


def with_methods_returning(kind: str, cls: type) -> type:
    """A subclass of ``cls`` whose own methods (not __init__) return ``kind`` values."""
    methods = {
        name: returning(kind, member)
        for name, member in vars(cls).items()
        if callable(member) and not name.startswith("_")
    }
    return type(cls.__name__, (cls,), methods)


# Which checks each function's catalogue runs: all of them, except where training a network
# for every wrong value would take minutes (bce's training checks get the kinds that change
# what a training routine meets; accuracy is never trained with).
def _bce_loss_checks(kind: str) -> Callable[[str], bool]:
    trained = kind in ("none", "scalar", "nan", "object", "string", "torch", "huge")
    return lambda name: name.startswith("test_bce_") or (trained and "training" in name)


ONLY: dict[tuple[str, str], Callable[[str], Callable[[str], bool] | None]] = {
    ("bce", "bce_loss"): _bce_loss_checks,
    ("bce", "accuracy"): lambda kind: lambda name: name.startswith("test_accuracy_"),
    ("torch_mlp", "train"): lambda kind: lambda name: name == "test_train_returns_mean_batch_loss",
    ("torch_mlp", "evaluate"): lambda kind: lambda name: name.startswith("test_evaluate"),
    ("activations", "manual_backward"): lambda kind: lambda name: "manual_backward" in name,
    ("activations", "train"): lambda kind: lambda name: name.startswith("test_train"),
    ("activations", "derivative"): lambda kind: lambda name: "numerical" in name,
}
FUNCTIONS = {
    "relu": ("relu", "d_relu"),
    "backprop": ("backward_pass",),
    "bce": ("bce_loss", "accuracy"),
    "torch_mlp": ("train", "evaluate"),
    "activations": (
        "sigmoid",
        "tanh",
        "relu",
        "d_sigmoid",
        "d_tanh",
        "d_relu",
        "derivative",
        "manual_backward",
        "train",
    ),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("assignment", "function"),
    [(a, f) for a, functions in FUNCTIONS.items() for f in functions],
)
def test_a_function_returning_a_wrong_value_never_errors(
    assignment: str, function: str, kind: str
) -> None:
    namespace = solution_namespace(assignment)
    namespace[function] = returning(kind, namespace[function])
    only = ONLY.get((assignment, function), lambda kind: None)(kind)
    outcomes = run(assignment, namespace, seed=5, only=only)
    assert not errors(outcomes)
    if kind not in ACCEPTABLE | ALSO_ACCEPTABLE.get((assignment, function), set()):
        assert failures(outcomes), "the wrong value went unnoticed"


# An array as a tuple of its rows is the same numbers as the list of them ("list" above).
ALSO_ACCEPTABLE = {
    ("activations", name): {"tuple"}
    for name in ("relu", "d_sigmoid", "d_tanh", "d_relu", "derivative")
}
LAYER_CLASSES = ("Relu", "Sigmoid", "Affine", "SoftmaxWithLoss", "ThreeLayerNet")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("classes", [LAYER_CLASSES[:-1], LAYER_CLASSES[-1:]], ids=["layers", "net"])
def test_layer_methods_returning_a_wrong_value_never_error(
    classes: tuple[str, ...], kind: str
) -> None:
    # The layers and the network apart: a network built of wrong layers only raises.
    namespace = solution_namespace("layers")
    for name in classes:
        namespace[name] = with_methods_returning(kind, namespace[name])
    outcomes = run("layers", namespace, seed=5, only=lambda name: "sgd" not in name)
    assert not errors(outcomes)
    if kind not in ACCEPTABLE:
        assert failures(outcomes), "the wrong value went unnoticed"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", ["forward", "backward"])
def test_a_myrelu_returning_a_wrong_value_never_errors(method: str, kind: str) -> None:
    """The activations assignment's torch.autograd.Function: what its forward or backward
    returns reaches PyTorch first (through MyReLU.apply), then the checks."""
    namespace = solution_namespace("activations")
    cls = namespace["MyReLU"]
    wrapped = staticmethod(returning(kind, getattr(cls, method)))
    namespace["MyReLU"] = type("MyReLU", (cls,), {method: wrapped})
    outcomes = run("activations", namespace, seed=5, only=lambda name: "myrelu" in name)
    assert not errors(outcomes)
    # Autograd sums a gradient of shape (1, *x.shape) down to x's shape: the right gradient.
    if kind not in ACCEPTABLE | ({"extra_dim"} if method == "backward" else set()):
        assert failures(outcomes), "the wrong value went unnoticed"
