"""What a numerical gradient knows about its own precision.

A centred difference divides a difference of the function's values by the step, so the
rounding in those values grows by 1/step: for a function that computes in float32 (eps
1.2e-7) and a step of 1e-3, its slope may be off by ~1e-4 of the values' size, far more
than a right analytic gradient's error. ``NumericalGradient`` carries, per element, a
bound on that error, which ``expect_gradient`` allows on top of its tolerance.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Rounding inside a function (exp, a division, a sum) costs a few eps per value, not one:
# the bound counts 4, which a right float32 Sigmoid stays within on every seed.
ROUNDINGS = 4.0
# How much the centred difference of _gradients._centred weights each value, in all: (1 + 8
# + 8 + 1) / 12 per step.
STENCIL_WEIGHT = 18 / 12
_LOW = ("float16", "float32")


class NumericalGradient(np.ndarray):  # type: ignore[type-arg]
    """A numerical gradient (a float64 array) with ``error``, per element, the most that
    rounding in the measured function's values can have moved it, and ``precision``, the
    float type those values came in when it is less precise than float64 ("float32"), else
    None. Multiplying it by an array (``slope * dout``) scales the error with it; any other
    arithmetic gives an array whose error is unknown (None)."""

    error: np.ndarray | None
    precision: str | None

    def __array_finalize__(self, obj: Any) -> None:
        self.error = None
        self.precision = None

    def __mul__(self, other: Any) -> NumericalGradient:
        factor = np.asarray(other, dtype=np.float64)
        product = np.multiply(self.view(np.ndarray), factor)
        error = None if self.error is None else np.abs(factor) * self.error
        return measured(product, error, self.precision)

    __rmul__ = __mul__


def measured(
    values: np.ndarray, error: np.ndarray | None, precision: str | None
) -> NumericalGradient:
    """``values`` as a NumericalGradient with this ``error`` bound and ``precision``."""
    result = np.asarray(values, dtype=np.float64).view(NumericalGradient)
    if error is not None:
        result.error = np.broadcast_to(np.asarray(error, dtype=np.float64), result.shape).copy()
    result.precision = precision
    return result


def precision_of(value: object) -> str | None:
    """The name of ``value``'s float type if it is less precise than float64, else None."""
    dtype = getattr(value, "dtype", None)
    name = str(dtype).removeprefix("torch.") if dtype is not None else ""
    return name if name in _LOW else None


def eps_of(precision: str | None) -> float:
    return float(np.finfo(precision or "float64").eps)


def rounding_bound(
    sizes: np.ndarray, point: np.ndarray, slope: np.ndarray, step: float, precision: str | None
) -> np.ndarray:
    """The most that rounding can move a centred difference at ``point`` with ``step``:
    each value of the function (of size up to ``sizes``) is rounded, and so is the point it
    is measured at when the function casts its input to its own precision (moving the
    value by the slope times that rounding)."""
    eps = eps_of(precision)
    rounded = np.abs(sizes) + np.abs(point) * np.abs(slope)
    return ROUNDINGS * STENCIL_WEIGHT * eps * rounded / step
