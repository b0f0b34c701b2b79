"""Diagnoses for a layered network's gradients: batch-size factors, and where an error enters.

Gradients are named as in the backprop assignments: ``dW1``, ``db1`` for layer 1 up to
``dWL``, ``dbL`` for the output layer L. Layer k's gradients both come from its error
signal dSk, which is computed from dS(k+1): so which gradients are right tells where
along that chain a mistake is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from grader.bridge import CallResult
from grader.compare import describe, expect_array
from grader.failures import CheckFailure
from grader.gradcheck import TOLERANCE, compare_gradients, expect_gradient

__all__ = ["GradientCall", "batch_factor_hints", "chain_hint", "error_entry", "gradient_layer"]


@dataclass
class GradientCall:
    """One call of a student's backward pass that returns a dict of gradients, judged one
    gradient at a time against the reference and the numerical gradients."""

    call: CallResult
    expected: Mapping[str, np.ndarray]  # by gradient name: dW1, db1, ...
    numerical: Mapping[str, np.ndarray]  # the same gradients by centred differences
    m: int  # the batch size, for the 1/m and m hints
    activation: str = "sigmoid"
    # How close to ``expected`` a gradient must be: looser when ``expected`` is itself a
    # numerical gradient (a student's own numerical_gradient), not the reference.
    rtol: float = 1e-6
    factor_hints: Mapping[float, str] | None = None  # default: batch_factor_hints(m)
    # What the other gradients tell about a wrong one: default chain_hint (dW1 ... dbL).
    hint: Callable[[str, Mapping[str, bool]], str] | None = None
    _mismatches: dict[str, str | None] = field(default_factory=dict, init=False, repr=False)

    def gradients(self) -> Mapping[object, object]:
        """What the call returned; fails the check unless it is a dict."""
        error = self.call.error
        if error is not None and error.ename == "NameError":
            raise CheckFailure(f"{self.call.message}\n{_name_error_hint(error.evalue)}")
        value = self.call.value
        if not isinstance(value, dict):
            keys = ", ".join(self.expected)
            raise CheckFailure(
                f"{self.call.what} returned {describe(value)}; expected a dict with the keys "
                f"{keys}."
            )
        return value

    def mismatch(self, name: str) -> str | None:
        """Why gradient ``name`` is wrong (no hints), or None if it is right."""
        if name not in self._mismatches:
            self._mismatches[name] = self._compare(name)
        return self._mismatches[name]

    @property
    def right(self) -> dict[str, bool]:
        return {name: self.mismatch(name) is None for name in self.expected}

    def failure(self, name: str) -> str | None:
        """Why gradient ``name`` is wrong, with what the other gradients tell; None if right."""
        message = self.mismatch(name)
        # Hints need a wrong value to explain, not a missing one or an exception.
        returned = self.call.raw_value if self.call.ok else None
        if message is None or not isinstance(returned, dict) or name not in returned:
            return message
        if self.hint is not None:
            return f"{message}\n{self.hint(name, self.right)}"
        return f"{message}\n{chain_hint(name, self.right, activation=self.activation)}"

    def _compare(self, name: str) -> str | None:
        try:
            grads = self.gradients()
            if name not in grads:
                return self._missing(name, grads)
            actual = grads[name]
            what = f'{self.call.what}["{name}"] for a batch of m = {self.m}'
            try:
                hints = self.factor_hints
                expect_array(
                    actual,
                    self.expected[name],
                    what=what,
                    rtol=self.rtol,
                    factor_hints=batch_factor_hints(self.m) if hints is None else hints,
                )
            except CheckFailure as exc:
                return f"{exc}{self._numerical_note(name, actual)}"
            expect_gradient(actual, self.numerical[name], what=what)
        except CheckFailure as exc:
            return str(exc)
        return None

    def _numerical_note(self, name: str, actual: object) -> str:
        """The relative error against the numerical gradient, where one can be computed."""
        try:
            got = np.asarray(actual, dtype=np.float64)
            result = compare_gradients(got, self.numerical[name])
        except (TypeError, ValueError):  # not numbers, or the wrong shape
            return ""
        if not np.all(np.isfinite(got)):
            return ""
        return (
            f"\nAgainst the numerical gradient (centred differences), which agrees with the "
            f"expected values, the largest relative error is {result.max_error:.3g}; a right "
            f"gradient stays below {TOLERANCE:g}."
        )

    def _missing(self, name: str, grads: Mapping[object, object]) -> str:
        keys = ", ".join(repr(k) for k in grads) or "none"
        text = f'{self.call.what} returned a dict without the key "{name}" (its keys: {keys}).'
        near = [
            k for k in grads if isinstance(k, str) and k.lower() in (name.lower(), name[1:].lower())
        ]
        if near:
            text += f' Did you mean {near[0]!r}? The checks look for the exact key "{name}".'
        return text


def batch_factor_hints(m: int) -> dict[float, str]:
    """``factor_hints`` for expect_array: the two ways of getting the batch mean wrong."""
    if m == 1:  # dividing by 1 changes nothing: no factor can show
        return {}
    return {
        1 / m: f"divided by the batch size m = {m} twice; divide by m once",
        float(m): f"the mean over the batch is missing; divide by the batch size m = {m}",
    }


def chain_hint(name: str, right: Mapping[str, bool], *, activation: str = "sigmoid") -> str:
    """Where the mistake in the wrong gradient ``name`` most likely is, given which are right.

    ``right`` says for every gradient (dW1 ... dbL) whether it matched the reference.
    """
    kind, k = name[:2], int(name[2:])
    sibling = f"{'db' if kind == 'dW' else 'dW'}{k}"
    entry, top = error_entry(name, right)
    if entry is None:
        what_it_does = (
            f"it sums dS{k} over the examples of the batch"
            if kind == "db"
            else f"it multiplies dS{k} by {_layer_input(k)}.T"
        )
        return (
            f"{sibling} is right, so the chain up to dS{k} is right: the mistake is in the "
            f"line that computes {name} itself ({what_it_does})."
        )
    if entry == top:
        text = (
            f"dW{top} and db{top} are both wrong, and every gradient is computed from "
            f"dS{top}, the error at the output (A{top} - y_true): check it first, and where "
            "you divide by the batch size."
        )
        return text if k == top else f"{text} Then dW{k} and db{k} should follow."
    above = [g for g in (f"dW{entry + 1}", f"db{entry + 1}") if right.get(g)]
    text = (
        f"{' and '.join(above)} {'is' if len(above) == 1 else 'are'} right but dW{entry} and "
        f"db{entry} are wrong: the error enters in the step back from layer {entry + 1} to "
        f"layer {entry}. Look at the activation derivative, dS{entry} = dA{entry} * "
        f"d_{activation}(S{entry}) (taken at S{entry}, not at A{entry}), and at the chain "
        f"between the layers, dA{entry} = W{entry + 1}.T @ dS{entry + 1}."
    )
    if entry == k:
        return text
    return f"{text} dW{k} and db{k} are computed from dS{entry}, so fix layer {entry} first."


def gradient_layer(name: str) -> tuple[str, int]:
    """("W", 2) for dW2 or W2, ("b", 3) for db3 or b3: a gradient's kind and layer."""
    match = re.fullmatch(r"d?([Wb])(\d+)", name)
    if match is None:
        raise ValueError(f"not a gradient name: {name!r}")
    return match.group(1), int(match.group(2))


def error_entry(name: str, right: Mapping[str, bool]) -> tuple[int | None, int]:
    """(the layer where the error behind the wrong gradient ``name`` enters, the top layer).

    None when the other gradient of the same layer is right: then the error signal reaching
    the layer is right, and the mistake is in the line computing ``name`` itself. Otherwise
    the highest layer whose gradients are both wrong. Names are dW1 ... dbL or W1 ... bL.
    """
    kind, k = gradient_layer(name)
    prefix = name[: len(name) - len(f"{kind}{k}")]
    if right.get(f"{prefix}{'b' if kind == 'W' else 'W'}{k}"):
        return None, k
    top = max(gradient_layer(g)[1] for g in right)

    def either_right(layer: int) -> bool:
        return bool(right.get(f"{prefix}W{layer}") or right.get(f"{prefix}b{layer}"))

    return next(j for j in range(top, 0, -1) if not either_right(j)), top


def _name_error_hint(evalue: str) -> str:
    match = re.fullmatch(r"name '(\w+)' is not defined.*", evalue, flags=re.DOTALL)
    name = f"`{match.group(1)}`" if match else "The name"
    return (
        f"{name} is read before any line of your function assigns it: check the spelling, and "
        "whether the line meant to compute it assigns a different name."
    )


def _layer_input(layer: int) -> str:
    return "x" if layer == 1 else f"A{layer - 1}"
