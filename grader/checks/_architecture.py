"""Compare a student's PyTorch model with the architecture asked for.

``expect_layers`` compares the layers called by name. ``expect_network`` judges what the
network computes, not how it is written: the Linear layers come from the trace (their sizes,
weights, and what went in and came out of each); everything between them is judged by
values, the input of each Linear layer being the activation asked for applied to the
previous one's output. So ``nn.Sequential`` and a class, ``nn.ReLU()`` and ``torch.relu`` /
``F.relu``, ``nn.Flatten()`` and ``x.view(-1, 784)`` are all accepted, and a missing or wrong
activation is still named. Computed in NumPy, so that grader.checks works without torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from grader.checks._compare import describe
from grader.checks._i18n import gettext as _
from grader.checks._torch_routines import LayerCall, ModelTrace
from grader.checks.failures import CheckFailure

__all__ = ["expect_layers", "expect_network"]


def expect_layers(calls: Sequence[LayerCall], expected: Sequence[str], *, what: str) -> None:
    """Fail, naming the first layer that differs, unless the layers called (in the order
    ``forward`` called them: ``trace_model(...).calls``) are ``expected``, written as
    ``LayerCall.name`` writes them (``"Linear(784, 64)"``, ``"ReLU"``)."""
    got = [call.name for call in calls]
    if got == list(expected):
        return
    summary = _("{what} runs {got}; expected {expected}, in this order.").format(
        what=what, got=_listing(got), expected=_listing(expected)
    )
    index = next(
        (i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b),
        min(len(got), len(expected)),
    )
    if index < len(got) and index < len(expected):
        detail = _("Layer {number} is {got} where {expected} was expected.").format(
            number=index + 1, got=got[index], expected=expected[index]
        )
        if _swapped(got[index], expected[index]):
            detail += " " + _("Its in_features and out_features are swapped: nn.Linear(in, out).")
    elif len(got) < len(expected):
        detail = _("Missing at the end: {layers}.").format(layers=", ".join(expected[index:]))
    else:
        detail = _("Not expected at the end: {layers}.").format(layers=", ".join(got[index:]))
    raise CheckFailure(f"{summary}\n{detail}")


def _listing(names: Sequence[str]) -> str:
    return " → ".join(names) if names else "no layers"


def _swapped(got: str, expected: str) -> bool:
    if not (got.startswith("Linear(") and expected.startswith("Linear(")):
        return False
    return got[7:-1].split(", ")[::-1] == expected[7:-1].split(", ")


Activation = Callable[[np.ndarray], np.ndarray]


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -a))


def _softmax(a: np.ndarray) -> np.ndarray:
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


_erf = np.vectorize(math.erf, otypes=[np.float64])

# What nn.<name>() computes with its default settings (Softmax and LogSoftmax over the
# features of each example), in float64: both the activations an architecture may ask for
# and the ones a message may name when it finds another.
ACTIVATIONS: dict[str, Activation] = {
    "ReLU": lambda a: np.maximum(a, 0.0),
    "Sigmoid": _sigmoid,
    "Tanh": np.tanh,
    "LeakyReLU": lambda a: np.where(a > 0, a, 0.01 * a),
    "ELU": lambda a: np.where(a > 0, a, np.expm1(np.minimum(a, 0.0))),
    "GELU": lambda a: 0.5 * a * (1.0 + _erf(a / math.sqrt(2.0))),
    "SiLU": lambda a: a * _sigmoid(a),
    "Softplus": lambda a: np.logaddexp(0.0, a),
    "LogSigmoid": lambda a: -np.logaddexp(0.0, -a),
    "Softmax": _softmax,
    "LogSoftmax": lambda a: a - np.logaddexp.reduce(a, axis=-1, keepdims=True),
}


def expect_network(trace: ModelTrace, x: Any, architecture: Sequence[str], *, what: str) -> None:
    """Fail, saying what differs, unless the model that ``trace_model`` ran on ``x`` computes
    ``architecture``: Linear layers written as ``"Linear(784, 64)"``, each followed by the
    activations applied to its output, in order, named as torch.nn names them (``"ReLU"``,
    ``"Sigmoid"``, ``"Tanh"``, ``"LeakyReLU"``, ``"ELU"``, ``"GELU"``, ``"SiLU"``,
    ``"Softplus"``, ``"LogSigmoid"``, ``"Softmax"`` and ``"LogSoftmax"``, with their default
    settings).

    The Linear layers' sizes come from the trace; the input of the first must be ``x``
    flattened to one row per example; between two Linear layers, and after the last, the
    values must be the activations asked for applied to the previous layer's output; and
    the output is recomputed from the model's own weights. Modules or functions, a
    Sequential or a class: only the values count.
    """
    linear, after = _parse(architecture)
    layers = trace.linear
    expect_layers(layers, linear, what=_("{what} (counting its Linear layers)").format(what=what))
    if not _is_tensor_like(trace.output):
        raise CheckFailure(
            _("{what}'s forward() returned {got}; expected a tensor.").format(
                what=what, got=describe(trace.output)
            )
        )
    x_rows = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    first = _values(layers[0].input)
    if not _matches(first, x_rows):
        raise CheckFailure(
            _(
                "The first Linear layer of {what} does not get the input as it is, flattened to "
                "one row per example (nn.Flatten(), x.view(-1, {width}) or x.flatten(1)): "
                "{what}'s forward() changes it before that layer{modules}."
            ).format(what=what, width=x_rows.shape[1], modules=_modules_before_first(trace))
        )
    modules = _modules_between(trace)
    wrong = []  # every place, so that one run of the checks shows all there is to fix
    for i, layer in enumerate(layers):
        following = layers[i + 1] if i + 1 < len(layers) else None
        got = _values(following.input if following else trace.output)
        out = _values(layer.output)
        if out is None or _matches(got, _apply(after[i], out)):
            continue
        where = (
            _("between {layer} and {next}").format(layer=layer.name, next=following.name)
            if following
            else _("after {layer}").format(layer=layer.name)
        )
        wrong.append(_wrong_activation(what, where, after[i], _which(out, got), modules[i]))
    if wrong:
        raise CheckFailure("\n".join(wrong))
    if not _matches(_values(trace.output), _recomputed(x_rows, layers, after)):
        raise CheckFailure(
            _(
                "{what}'s output is not {architecture} of its own weights: check that forward() "
                "passes each layer's result on to the next and returns the last."
            ).format(what=what, architecture=" → ".join(architecture))
        )


def _parse(architecture: Sequence[str]) -> tuple[list[str], list[list[str]]]:
    """The Linear layers, and the activations after each."""
    linear: list[str] = []
    after: list[list[str]] = []
    for name in architecture:
        if name.startswith("Linear("):
            linear.append(name)
            after.append([])
        elif name not in ACTIVATIONS or not after:
            raise ValueError(f"expect_network: cannot judge {name!r} in {list(architecture)}")
        else:
            after[-1].append(name)
    return linear, after


def _is_tensor_like(value: object) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype")


def _values(value: object) -> np.ndarray | None:
    if not _is_tensor_like(value):
        return None
    tensor: Any = value
    array = tensor.numpy() if hasattr(tensor, "numpy") else tensor
    return np.asarray(array, dtype=np.float64)


def _apply(names: Sequence[str], values: np.ndarray) -> np.ndarray:
    for name in names:
        values = ACTIVATIONS[name](values)
    return values


def _matches(got: np.ndarray | None, expected: np.ndarray) -> bool:
    """The same values up to float32 rounding; an output of the same values in another shape
    ((n,) for (n, 1)) counts, because the values are what the network computes."""
    if got is None or got.size != expected.size:
        return False
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    return bool(np.allclose(got.reshape(expected.shape), expected, rtol=1e-4, atol=1e-5 * scale))


NOTHING = "no activation"
# The activations torch also has as functions: a message names both spellings.
FUNCTIONS = {"ReLU": "torch.relu", "Sigmoid": "torch.sigmoid", "Tanh": "torch.tanh"}


def _which(out: np.ndarray, got: np.ndarray | None) -> str | None:
    """The activation (or NOTHING) that maps ``out`` to ``got``, None if none does."""
    if got is None:
        return None
    if _matches(got, out):
        return NOTHING
    return next((name for name, f in ACTIVATIONS.items() if _matches(got, f(out))), None)


def _wrong_activation(
    what: str, where: str, wanted: Sequence[str], found: str | None, modules: Sequence[str]
) -> str:
    asked = " → ".join(wanted) if wanted else _("nothing")
    done = _("no activation") if found == NOTHING else found
    if found is None:
        called = ", ".join(modules)
        there = (
            _("the modules it calls there: {modules}").format(modules=called)
            if called
            else _("in forward(), not a module")
        )
        done = _("something else ({there})").format(there=there)
    hint = ""
    if wanted and wanted[0] in FUNCTIONS:
        hint = f" (nn.{wanted[0]}() or {FUNCTIONS[wanted[0]]})"
    text = _("{where}, {what} applies {done}; {asked} was expected{hint}.").format(
        where=where, what=what, done=done, asked=asked, hint=hint
    )
    return f"{text[0].upper()}{text[1:]}"


def _modules_between(trace: ModelTrace) -> list[list[str]]:
    """For each Linear layer, the other modules called after it and before the next."""
    groups: list[list[str]] = [[]]
    for call in trace.calls:
        if call.features is not None:
            groups.append([])
        else:
            groups[-1].append(call.type)
    return groups[1:]


def _modules_before_first(trace: ModelTrace) -> str:
    """The modules forward() calls before the first Linear layer, but Flatten, for a
    message: " (Dropout)" or nothing."""
    before = []
    for call in trace.calls:
        if call.features is not None:
            break
        if call.type != "Flatten":
            before.append(call.type)
    return f" ({', '.join(before)})" if before else ""


def _recomputed(
    x_rows: np.ndarray, layers: Sequence[LayerCall], after: Sequence[list[str]]
) -> np.ndarray:
    values = x_rows
    for layer, names in zip(layers, after, strict=True):
        weight = _values(layer.weight)
        bias = _values(layer.bias)
        assert weight is not None  # a Linear layer's call always carries its weight
        values = values @ weight.T + (0.0 if bias is None else bias)
        values = _apply(names, values)
    return values
