"""Numerical gradients by centred differences in float64, and how far a gradient is from one.

Works on anything that maps an array to a number: a reference network's loss, or a
student's function called across the boundary (``lambda v: notebook.call("f", v).value``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.checks._compare import _as_returned, expect_array
from grader.checks._explain import _fail, _num, _shape, describe
from grader.checks._i18n import gettext as _
from grader.checks._precision import (
    NumericalGradient,
    measured,
    precision_of,
    rounding_bound,
)

# What grader.checks exports; the tuning constants below are defaults of these helpers.
__all__ = [
    "GradientComparison",
    "away_from_kinks",
    "compare_gradients",
    "elementwise_derivative",
    "expect_gradient",
    "numerical_gradient",
    "parameter_gradients",
    "parameter_gradients_at_once",
]

# Centred differences of fourth order, (f(x-2h) - 8f(x-h) + 8f(x+h) - f(x+2h)) / 12h: they err
# by ~h**4 (truncation) plus ~eps/h (rounding), both near 1e-13 in float64 with h = 1e-3. The
# plain (f(x+h) - f(x-h)) / 2h errs by ~3e-11 at best, which the TINY floor below turns
# into relative errors up to 1e-3 on gradient elements near 1e-8 (measured on the MLP).
STEP = 1e-3
# The floor of the relative error's denominator, so two near-zero values count as equal.
TINY = 1e-8
# The largest relative error a right gradient may show: rounding stays below 1e-5 (measured
# worst 3.5e-6 over 1,200 MLP gradients). Beyond SUSPECT it is a real mistake (a factor
# 1/m is 0.33 or more, a wrong derivative larger still); in between, float32 arithmetic or
# an input too near a kink are the usual causes.
TOLERANCE = 1e-4
SUSPECT = 1e-2
# A gradient computed in float32 carries ~1e-7 of its largest element as rounding in every
# element: relative to that, small elements err by far more than 1e-4. It is judged within
# LOW_PRECISION_TOLERANCE, elements under LOW_PRECISION_FLOOR of the largest by their
# absolute error (still well below SUSPECT, where real mistakes begin).
LOW_PRECISION_TOLERANCE = 1e-3
LOW_PRECISION_FLOOR = 1e-3
# Inputs are kept farther than this from a kink (ReLU's 0): a difference whose points
# straddle a kink measures neither side's slope.
KINK_MARGIN = 10 * STEP


def _small_error() -> str:
    return _(
        "An error this small usually comes from computing in float32 instead of float64, or "
        "from an input that lies within the step of a point where the function has a kink."
    )


ScalarFunction = Callable[[np.ndarray], object]


@dataclass(frozen=True)
class GradientComparison:
    """What ``compare_gradients`` found: the largest relative error between two gradients
    (``max_error``), its ``index``, the two values there, and the ``tolerance`` a right
    gradient stays within (``passed``)."""

    max_error: float
    index: tuple[int, ...]
    analytic: float
    numerical: float
    tolerance: float = TOLERANCE

    @property
    def passed(self) -> bool:
        """Whether ``max_error`` is within ``tolerance`` (False for NaN)."""
        return self.max_error <= self.tolerance


def relative_error(a: np.ndarray, b: np.ndarray, tiny: float = TINY) -> np.ndarray:
    """|a - b| / max(|a| + |b|, tiny), element-wise."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), tiny)


def numerical_gradient(f: ScalarFunction, x: np.ndarray, *, step: float = STEP) -> np.ndarray:
    """The gradient of the scalar function ``f`` at ``x``, one centred difference per element,
    as a ``NumericalGradient`` that knows its own error (larger when ``f`` computes in float32).

    ``f`` gets a fresh float64 copy each time, so a function that writes into its argument
    cannot disturb the next evaluation.
    """
    point = np.array(x, dtype=np.float64)
    grad = np.empty_like(point)
    sizes = np.zeros_like(point)
    seen: list[str | None] = []
    for i in range(point.size):
        values: list[float] = []

        def along(value: float, i: int = i, values: list[float] = values) -> float:
            moved = point.copy()
            moved.flat[i] = value
            returned = f(moved)
            seen.append(precision_of(returned))
            values.append(_scalar(returned))
            return values[-1]

        with np.errstate(all="ignore"):
            grad.flat[i] = _centred(along, float(point.flat[i]), step)
        sizes.flat[i] = max(abs(v) for v in values)
    precision = _lowest(seen)
    return measured(grad, rounding_bound(sizes, point, grad, step, precision), precision)


def elementwise_derivative(
    f: Callable[[np.ndarray], object], x: np.ndarray, *, step: float = STEP
) -> np.ndarray:
    """The derivative of an element-wise function (an activation) at every element of ``x``,
    as a ``NumericalGradient`` that knows its own error (larger when ``f`` computes in
    float32).

    Four calls of ``f`` in all, whatever the size of ``x``.
    """
    point = np.array(x, dtype=np.float64)
    sizes = np.zeros_like(point)
    seen: list[str | None] = []

    def at(offset: float) -> np.ndarray:
        returned = f(point + offset)
        value = _numbers(returned)
        if value is None or value.shape != point.shape:
            _fail(
                _(
                    "The function whose derivative is measured (by centred differences) "
                    "returned {got}; expected an array of its input's shape {shape}."
                ).format(got=describe(returned), shape=_shape(point.shape))
            )
        seen.append(precision_of(returned))
        np.maximum(sizes, np.abs(value), out=sizes)
        return value

    with np.errstate(all="ignore"):  # inf - inf in a student's values: NaN, judged later
        slope = _centred(at, 0.0, step)
        precision = _lowest(seen)
        return measured(slope, rounding_bound(sizes, point, slope, step, precision), precision)


def parameter_gradients(
    loss: Callable[[Mapping[str, np.ndarray]], object],
    params: Mapping[str, np.ndarray],
    names: Sequence[str],
    *,
    step: float = STEP,
) -> dict[str, np.ndarray]:
    """The numerical gradient of a whole network's ``loss(params)`` for each named parameter."""
    grads = {}
    for name in names:

        def along(value: np.ndarray, name: str = name) -> object:
            return loss({**params, name: value})

        grads[name] = numerical_gradient(along, params[name], step=step)
    return grads


def parameter_gradients_at_once(
    losses: Callable[[Sequence[Mapping[str, np.ndarray]]], Sequence[object]],
    params: Mapping[str, np.ndarray],
    names: Sequence[str],
    *,
    step: float = STEP,
) -> dict[str, np.ndarray]:
    """As ``parameter_gradients``, but ``losses`` gets every moved set of parameters at once
    and returns their losses in order: for a loss that costs a round trip to the kernel per
    call, and can be evaluated for many parameter sets in one."""
    offsets = (-2, -1, 1, 2)  # the points _centred evaluates, in steps
    points = []
    for name in names:
        base = np.array(params[name], dtype=np.float64)
        for i in range(base.size):
            for k in offsets:
                moved = base.copy()
                moved.flat[i] = float(base.flat[i]) + k * step
                points.append({**params, name: moved})
    returned = list(losses(points))
    found_losses = [_scalar(value) for value in returned]
    precision = _lowest([precision_of(value) for value in returned])
    if len(found_losses) != len(points):
        raise ValueError(f"losses must return {len(points)} values, not {len(found_losses)}")
    values = iter(found_losses)
    grads: dict[str, np.ndarray] = {}
    for name in names:
        grad = np.empty(np.shape(params[name]), dtype=np.float64)
        sizes = np.zeros_like(grad)
        for i in range(grad.size):
            # Keyed by the offsets _centred asks for at 0.0 (exactly k * step: 0.0 - 2h is -2h).
            found = {k * step: next(values) for k in offsets}
            grad.flat[i] = _centred(found.__getitem__, 0.0, step)
            sizes.flat[i] = max(abs(v) for v in found.values())
        base = np.asarray(params[name], dtype=np.float64)
        grads[name] = measured(grad, rounding_bound(sizes, base, grad, step, precision), precision)
    return grads


def away_from_kinks(
    rng: np.random.Generator,
    shape: tuple[int, ...],
    *,
    kinks: Sequence[float] = (0.0,),
    scale: float = 1.0,
    margin: float = KINK_MARGIN,
) -> np.ndarray:
    """Inputs for a numerical gradient of a function with kinks (ReLU's 0): normal values
    times ``scale``, none closer than ``margin`` to a kink."""
    x = np.asarray(rng.standard_normal(shape) * scale, dtype=np.float64)
    for kink in kinks:
        near = np.abs(x - kink) <= margin
        # Push each value out on its own side (or up, exactly at the kink), past the margin.
        x[near] = kink + np.where(x[near] < kink, -2.0, 2.0) * margin
    return x


def compare_gradients(
    analytic: np.ndarray,
    numerical: np.ndarray,
    *,
    tiny: float = TINY,
    tolerance: float = TOLERANCE,
) -> GradientComparison:
    """The largest element-wise relative error between two gradients of the same shape,
    |a - b| / max(|a| + |b|, tiny), and whether it is within ``tolerance``, small enough
    for a right gradient. When ``numerical`` knows its own error (a ``NumericalGradient``
    from these helpers), that much of |a - b| is forgiven first."""
    bound = getattr(numerical, "error", None)
    a, n = np.asarray(analytic, dtype=np.float64), np.asarray(numerical, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"shapes differ: {_shape(a.shape)} and {_shape(n.shape)}")
    if a.size == 0:
        return GradientComparison(0.0, (), 0.0, 0.0, tolerance)
    with np.errstate(invalid="ignore"):
        errors = relative_error(a, n, tiny)
        if bound is not None:
            excess = np.maximum(np.abs(a - n) - bound, 0.0)
            errors = np.where(
                np.isnan(errors), errors, excess / np.maximum(np.abs(a) + np.abs(n), tiny)
            )
    # NaN is the worst error of all, not a missing one.
    errors = np.nan_to_num(errors, nan=np.inf, posinf=np.inf)
    index = tuple(int(i) for i in np.unravel_index(np.argmax(errors), errors.shape))
    found = (float(errors[index]), index, float(a[index]), float(n[index]))
    return GradientComparison(*found, tolerance)


def expect_gradient(
    actual: object,
    numerical: np.ndarray,
    *,
    what: str,
    inputs: Mapping[str, np.ndarray] | None = None,
) -> GradientComparison:
    """Fail, saying where and by how much, unless ``actual`` is within a relative error of
    1e-4 of the ``numerical`` gradient (and an array of its shape); return the comparison."""
    measured_from = getattr(numerical, "precision", None)
    if not isinstance(numerical, NumericalGradient):
        numerical = np.asarray(numerical, dtype=np.float64)
    # Type, shape and NaN problems are explained as for any other array; any finite values
    # pass this first step (atol=inf), the relative error judges them below.
    expect_array(actual, numerical, what=what, rtol=0.0, atol=np.inf, inputs=inputs)
    returned = _as_returned(actual)
    assert returned is not None  # expect_array has failed anything that is not numbers
    got = returned.array.astype(np.float64)
    low = _low_precision(actual)
    if low:
        scale = float(np.max(np.abs(numerical), initial=0.0))
        result = compare_gradients(
            got,
            numerical,
            tiny=max(TINY, LOW_PRECISION_FLOOR * scale),
            tolerance=LOW_PRECISION_TOLERANCE,
        )
    else:
        result = compare_gradients(got, numerical)
    if not result.passed:
        words = {
            "what": what,
            "error": _num(result.max_error),
            "index": result.index,
            "got": _num(result.analytic),
            "numerical": _num(result.numerical),
        }
        message = (
            _(
                "{what} does not match the numerical gradient (centred differences): the "
                "largest relative error is {error} at index {index}, where it is {got} and "
                "the numerical gradient is {numerical}."
            )
            if result.index
            else _(
                "{what} does not match the numerical gradient (centred differences): the "
                "largest relative error is {error}, where it is {got} and the numerical "
                "gradient is {numerical}."
            )
        ).format(**words)
        bound = (
            _("A right gradient stays below {tolerance} (in {dtype}, whose rounding is larger).")
            if low
            else _("A right gradient stays below {tolerance}.")
        ).format(tolerance=f"{result.tolerance:g}", dtype=low)
        cause = "" if result.max_error > SUSPECT else " " + _small_error()
        _fail(f"{message} {bound}{cause}{_measured_note(numerical, result.index, measured_from)}")
    return result


def _measured_note(numerical: np.ndarray, index: tuple[int, ...], precision: str | None) -> str:
    """Where the numerical gradient came from values in float32: say so, with its error."""
    bound = getattr(numerical, "error", None)
    if precision is None or bound is None:
        return ""
    return " " + _(
        "The numerical gradient was measured from {precision} values of your forward, so it "
        "is itself only good to about {bound} there; the difference is larger than that."
    ).format(precision=precision, bound=_num(float(bound[index])))


def _low_precision(value: object) -> str | None:
    """The name of ``value``'s float type if it is less precise than float64 (float32 ...)."""
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        return None
    name = str(dtype).removeprefix("torch.")
    kind = np.dtype(name).kind if name in ("float32", "float16") else ""
    return name if kind == "f" else None


def _lowest(precisions: list[str | None]) -> str | None:
    """The least precise float type among the values seen (None: all float64)."""
    found = [p for p in precisions if p is not None]
    return min(found, key=lambda p: np.finfo(p).bits) if found else None


def _numbers(value: object) -> np.ndarray | None:
    """``value`` as a float64 array, or None if it is not numbers (a dict, a handle ...)."""
    returned = None if value is None else _as_returned(value)
    if returned is None or returned.array.dtype.kind not in "biuf":
        return None
    return returned.array.astype(np.float64)


def _scalar(value: object) -> float:
    """The single number a function whose gradient is measured returned; a student's value
    that is not one fails the check with a message about it."""
    array = _numbers(value)
    if array is None or array.size != 1:
        _fail(
            _(
                "The function whose gradient is measured (by centred differences) returned "
                "{got}; expected a single number."
            ).format(got=describe(value))
        )
    return float(array.reshape(()))


def _centred(f: Callable[[float], Any], x: float, h: float) -> Any:
    """Fourth-order centred difference (f(x-2h) - 8 f(x-h) + 8 f(x+h) - f(x+2h)) / 12h."""
    return (f(x - 2 * h) - 8 * f(x - h) + 8 * f(x + h) - f(x + 2 * h)) / (12 * h)
