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

from grader.checks._compare import describe, expect_array
from grader.checks._gradients import TOLERANCE, compare_gradients, expect_gradient
from grader.checks._i18n import gettext as _
from grader.checks.failures import CheckFailure, NotJudged
from grader.checks.notebook import CallResult

# What grader.checks exports; ChainWords and chain_hint serve _networks and the tests.
__all__ = [
    "GradientCall",
    "batch_factor_cause",
    "batch_factor_hints",
    "expect_working",
    "extra_dimension_cause",
]

# The cause a failure names when a value is off by the batch size: charged once per
# submission (``charge_each_cause`` in assignment.toml).
BATCH_FACTOR = "batch-size factor"


@dataclass
class GradientCall:
    """One call of a student's backward pass that returns a dict of gradients, judged one
    gradient at a time against the reference and the numerical gradients."""

    call: CallResult
    expected: Mapping[str, np.ndarray]  # by gradient name: dW1, db1, ...
    # The same gradients by centred differences; None when ``expected`` is itself a
    # numerical gradient (a student's own numerical_gradient), judged by rtol and atol alone.
    numerical: Mapping[str, np.ndarray] | None
    m: int  # the batch size, for the 1/m and m hints
    activation: str = "sigmoid"
    # Where the expected values come from, said after a wrong value, when they are the
    # numerical gradients themselves (see ``against_numerical``); None: the reference's.
    basis: str | None = None
    # How close to ``expected`` a gradient must be: looser when ``expected`` is numerical.
    rtol: float = 1e-6
    atol: float = 1e-8
    factor_hints: Mapping[float, str] | None = None  # default: batch_factor_hints(m)
    # What the other gradients tell about a wrong one: default chain_hint (dW1 ... dbL).
    hint: Callable[[str, Mapping[str, bool]], str] | None = None
    _mismatches: dict[str, str | None] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def against_numerical(
        cls,
        call: CallResult,
        numerical: Mapping[str, np.ndarray],
        *,
        m: int,
        basis: str,
        activation: str = "sigmoid",
    ) -> GradientCall:
        """Judge the call against numerical gradients alone, with the same hints: for checks
        that students run themselves and that must not hold a reference solution. ``basis``
        says in the messages where the numerical gradients come from."""
        return cls(call, numerical, numerical, m, activation, basis=basis)

    def gradients(self) -> Mapping[object, object]:
        """What the call returned; fails the check unless it is a dict."""
        error = self.call.error
        if error is not None and error.ename == "NameError":
            raise CheckFailure(f"{self.call.message}\n{_name_error_hint(error.evalue)}")
        value = self.call.value
        if not isinstance(value, dict):
            keys = ", ".join(self.expected)
            example = ", ".join(f'"{key}": {key}' for key in self.expected)
            advice = _("Is the return statement missing?") + "\n" if value is None else ""
            # Every check of this call fails here: the plugin shows this whole message once
            # and the first line, with a pointer to it, in the others.
            first = _("{what} returned {got}; expected a dict with the keys {keys}.").format(
                what=self.call.what, got=describe(value), keys=keys
            )
            last = _(
                "The checks look each gradient up by its key, so even gradients in the right "
                "order cannot be judged: return {example}."
            ).format(example=f"{{{example}}}")
            raise CheckFailure(f"{first}\n{advice}{last}")
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

    def cause(self, name: str) -> str | None:
        """The mistake behind a wrong gradient when it is one that is counted once (the
        batch-size factor: m or 1/m times the expected values); None otherwise."""
        returned = self.call.raw_value if self.call.ok else None
        if self.mismatch(name) is None or not isinstance(returned, dict):
            return None
        found, want = returned.get(name), self.expected[name]
        return batch_factor_cause(found, want, self.m) or extra_dimension_cause(found, want)

    def _compare(self, name: str) -> str | None:
        try:
            grads = self.gradients()
            if name not in grads:
                return self._missing(name, grads)
            actual = grads[name]
            what = f'{self.call.what}["{name}"] for a batch of m = {self.m}'
            if self.numerical is None:  # judged by rtol and atol alone
                self._expect_values(name, actual, what)
                return None
            # With numerical gradients at hand, values are judged by the relative error, which
            # is meant for rounding (float32 arithmetic included); the comparison with the
            # expected values only explains a wrong gradient (a factor, a sign, where).
            expect_array(actual, self.expected[name], what=what, rtol=0.0, atol=np.inf)
            try:
                expect_gradient(actual, self.numerical[name], what=what)
            except CheckFailure as wrong:
                self._expect_values(name, actual, what)
                return str(wrong)
        except CheckFailure as exc:
            return str(exc)
        return None

    def _expect_values(self, name: str, actual: object, what: str) -> None:
        """Fail as expect_array does, with the numerical gradient's view added."""
        hints = self.factor_hints
        try:
            expect_array(
                actual,
                self.expected[name],
                what=what,
                rtol=self.rtol,
                atol=self.atol,
                factor_hints=batch_factor_hints(self.m) if hints is None else hints,
            )
        except CheckFailure as exc:
            raise CheckFailure(f"{exc}{self._numerical_note(name, actual)}") from None

    def _numerical_note(self, name: str, actual: object) -> str:
        """The relative error against the numerical gradient, where one can be computed."""
        if self.basis:  # the expected values are the numerical gradient: say whose
            return f"\n{self.basis}"
        if self.numerical is None:
            return ""
        try:
            got = np.asarray(actual, dtype=np.float64)
            result = compare_gradients(got, self.numerical[name])
        except Exception:  # noqa: BLE001 - not numbers, or the wrong shape: nothing to add
            return ""
        if not np.all(np.isfinite(got)):
            return ""
        return "\n" + _(
            "Against the numerical gradient (centred differences), which agrees with the "
            "expected values, the largest relative error is {error}; a right gradient stays "
            "below {tolerance}."
        ).format(error=f"{result.max_error:.3g}", tolerance=f"{TOLERANCE:g}")

    def _missing(self, name: str, grads: Mapping[object, object]) -> str:
        keys = ", ".join(repr(k) for k in grads) or _("none")
        text = _('{what} returned a dict without the key "{name}" (its keys: {keys}).').format(
            what=self.call.what, name=name, keys=keys
        )
        near = [
            k for k in grads if isinstance(k, str) and k.lower() in (name.lower(), name[1:].lower())
        ]
        if near:
            text += " " + _(
                'Did you mean {near}? The checks look for the exact key "{name}".'
            ).format(near=repr(near[0]), name=name)
        return text


def expect_working(call: GradientCall) -> GradientCall:
    """Not judged (`NotJudged`) unless the call returned at least one right gradient: credit
    for the checks beyond the gradients themselves only goes to a backward pass that works.
    When a gradient is wrong by the batch-size factor alone, that is the cause given: the
    backward pass would work but for a mistake that is charged once."""
    call.gradients()
    if not any(call.right.values()):
        causes = sorted({call.cause(name) or "" for name in call.expected} - {""})
        raise NotJudged(
            _("{what} returned no right gradient yet (see the checks of each gradient)").format(
                what=call.call.what
            ),
            cause=causes[0] if causes else None,
        )
    return call


# The cause a bias gradient with an extra dimension of size 1 names (extra_dimension_cause).
EXTRA_DIMENSION = "a gradient with an extra dimension of size 1 (keepdims=True)"


def batch_factor_cause(actual: object, expected: object, m: int) -> str | None:
    """``"batch-size factor"`` when ``actual`` is ``expected`` times m or 1/m (a missing or a
    doubled division by the batch size), for ``CheckFailure(..., cause=...)``; else None."""
    if m == 1:
        return None
    try:
        got = np.asarray(actual, dtype=np.float64)
        want = np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if got.shape != want.shape or not np.any(want) or not np.all(np.isfinite(got)):
        return None
    for factor in (float(m), 1 / m):
        if np.allclose(got, want * factor, rtol=1e-3, atol=1e-8 * factor):
            return BATCH_FACTOR
    return None


def extra_dimension_cause(actual: object, expected: object) -> str | None:
    """``EXTRA_DIMENSION`` when ``actual`` is ``expected`` with one more dimension of size 1
    (a bias gradient summed with ``keepdims=True``, shape (1, n) for (n,)): one mistake,
    whichever gradient or layer shows it, for ``CheckFailure(..., cause=...)``; else None."""
    try:
        got = np.asarray(actual, dtype=np.float64)
        want = np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if got.shape not in ((1, *want.shape), (*want.shape, 1)) or not want.size:
        return None
    if np.allclose(got.reshape(want.shape), want, rtol=1e-3, atol=1e-7):
        return EXTRA_DIMENSION
    return None


def batch_factor_hints(m: int) -> dict[float, str]:
    """``factor_hints`` for expect_array: the two ways of getting the batch mean wrong."""
    if m == 1:  # dividing by 1 changes nothing: no factor can show
        return {}
    return {
        1 / m: _("divided by the batch size m = {m} twice; divide by m once").format(m=m),
        float(m): _("the mean over the batch is missing; divide by the batch size m = {m}").format(
            m=m
        ),
    }


@dataclass(frozen=True)
class ChainWords:
    """How a network's hints name its parts: the sentences that differ between notations
    (dW1 ... dbL with dS and A in the backprop assignments, W1 ... bL with layer classes)."""

    prefix: str  # before W and b in gradient names: "d" for dW1, "" for W1
    own_line: Callable[[str, int], str]  # (kind, layer): the other gradient of it is right
    output: Callable[[int], str]  # (top layer): both of its gradients are wrong
    step: Callable[[int], str]  # (layer): the error enters on the way back into it
    fix_first: Callable[[int], str]  # (layer): ... "are computed from" it


def chain_hint(
    name: str,
    right: Mapping[str, bool],
    *,
    activation: str = "sigmoid",
    words: ChainWords | None = None,
) -> str:
    """Where the mistake in the wrong gradient ``name`` most likely is, given which are right.

    ``right`` says for every gradient (dW1 ... dbL, or W1 ... bL with ``words``) whether it
    matched; ``words`` default to the backprop assignments' notation.
    """
    words = words or _backprop_words(activation)
    kind, k = gradient_layer(name)
    p = words.prefix
    entry, top = error_entry(name, right)
    if entry is None:
        return words.own_line(kind, k)
    if entry == top:
        text = _("{W} and {b} are both wrong, and {why}").format(
            W=f"{p}W{top}", b=f"{p}b{top}", why=words.output(top)
        )
        if k == top:
            return text
        then = _("Then {W} and {b} should follow.").format(W=f"{p}W{k}", b=f"{p}b{k}")
        return f"{text} {then}"
    above = [g for g in (f"{p}W{entry + 1}", f"{p}b{entry + 1}") if right.get(g)]
    lead = (
        _("{right} is right but {W} and {b} are wrong: {why}")
        if len(above) == 1
        else _("{right} are right but {W} and {b} are wrong: {why}")
    )
    text = lead.format(
        right=_(" and ").join(above), W=f"{p}W{entry}", b=f"{p}b{entry}", why=words.step(entry)
    )
    if entry == k:
        return text
    computed = _("{W} and {b} are computed from {what}").format(
        W=f"{p}W{k}", b=f"{p}b{k}", what=words.fix_first(entry)
    )
    return f"{text} {computed}"


def _backprop_words(activation: str) -> ChainWords:
    def own_line(kind: str, k: int) -> str:
        name, sibling = f"d{kind}{k}", f"d{'b' if kind == 'W' else 'W'}{k}"
        what_it_does = (
            _("it sums dS{k} over the examples of the batch").format(k=k)
            if kind == "b"
            else _("it multiplies dS{k} by {input}.T").format(k=k, input=_layer_input(k))
        )
        return _(
            "{sibling} is right, so the chain up to dS{k} is right: the mistake is in the line "
            "that computes {name} itself ({what_it_does})."
        ).format(sibling=sibling, k=k, name=name, what_it_does=what_it_does)

    return ChainWords(
        prefix="d",
        own_line=own_line,
        output=lambda top: _(
            "every gradient is computed from dS{top}, the error at the output "
            "(A{top} - y_true): check it first, and where you divide by the batch size."
        ).format(top=top),
        step=lambda e: _(
            "the error enters in the step back from layer {above} to layer {e}. Look at the "
            "activation derivative, dS{e} = dA{e} * d_{activation}(S{e}) (taken at S{e}, not "
            "at A{e}), and at the chain between the layers, dA{e} = W{above}.T @ dS{above}."
        ).format(e=e, above=e + 1, activation=activation),
        fix_first=lambda e: _("dS{e}, so fix layer {e} first.").format(e=e),
    )


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
    name = f"`{match.group(1)}`" if match else _("The name")
    return _(
        "{name} is read before any line of your function assigns it: check the spelling, and "
        "whether the line meant to compute it assigns a different name."
    ).format(name=name)


def _layer_input(layer: int) -> str:
    return "x" if layer == 1 else f"A{layer - 1}"
