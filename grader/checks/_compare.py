"""Compare a student's result with the reference one and explain any mismatch in plain words.

Whatever the student's function returned (None, a dict, a tensor, an object left in the
kernel, an array of any shape or dtype), the helpers here either return or raise
CheckFailure with a message about that value: a check built on them never ends in
``error`` because of a student's value.

Precision: results in float32 (or float16) are compared with tolerances that suit their
precision; a float64 result whose differences are no larger than float32 rounding is told
so. Integer results where floats are expected pass when their values are right, with a note.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NamedTuple

import numpy as np

from grader.checks._explain import (
    _difference_message,
    _example,
    _factor_sentence,
    _fail,
    _first,
    _is_tensor,
    _nonfinite_message,
    _num,
    _shape,
    _shape_message,
    _subscript,
    describe,
)
from grader.checks._i18n import gettext as _
from grader.checks.failures import CheckFailure
from grader.checks.notes import note

__all__ = ["describe", "expect_array", "expect_scalar", "expect_unmodified"]

# Results in a lower precision than float64 are compared within this many of their machine
# epsilons (1.2e-4 for float32: rounding in a few hundred operations stays below it, and a
# real mistake is far larger), with absolute differences judged against the largest value.
_LOW_PRECISION_EPS = 1000
_LOW_PRECISION_ATOL_EPS = 100
_MAX_LOW_PRECISION_RTOL = 1e-2  # float16's epsilon is 1e-3: no comparison looser than this
_FLOAT32 = np.finfo(np.float32)


class _Returned(NamedTuple):
    """A returned value as an array, plus the words a message needs to talk about it."""

    array: np.ndarray
    noun: str
    dtype: str
    cast: str


def expect_array(
    actual: object,
    expected: np.ndarray,
    *,
    what: str,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    inputs: Mapping[str, np.ndarray] | None = None,
    factor_hints: Mapping[float, str] | None = None,
) -> None:
    """Raise CheckFailure explaining how ``actual`` differs from the array ``expected``.

    Values are compared as ``np.isclose(actual, expected, rtol, atol)``: by default
    ``rtol=1e-6`` and ``atol=1e-8`` for float64; a float32 or float16 result within its own
    rounding (1000 machine epsilons relative, 100 epsilons of the largest value absolute).
    ``inputs`` (arrays of the expected shape) are shown beside wrong elements, and a
    condition on one (``x < 0``) is named when it holds for exactly the wrong elements."""
    expected = np.asarray(expected)
    wanted = (
        _("an array of shape {shape}").format(shape=_shape(expected.shape))
        if expected.ndim
        else _("a single number")
    )
    with _judging(what, actual, wanted):
        if actual is None:
            _fail(_returned_none(what, wanted))
        returned = _as_returned(actual)
        if returned is None:
            message = _("{what} returned {got}; expected {wanted}.").format(
                what=what, got=describe(actual), wanted=wanted
            )
            if isinstance(actual, list | tuple):
                message += " " + _("Its items could not be turned into an array of numbers.")
            _fail(message)
        # A plain Python int carries no dtype a student chose, so only array dtypes are judged.
        _check_dtype(what, returned, expected)
        same_shape = {
            name: np.asarray(value)
            for name, value in (inputs or {}).items()
            if np.shape(value) == expected.shape
        }
        if returned.array.shape != expected.shape:
            _fail(_shape_message(what, returned.array.shape, expected.shape, same_shape))
        integers = _integers_for_floats(returned, expected) and type(actual) is not int
        try:
            _check_values(what, returned, expected, rtol, atol, same_shape, factor_hints)
        except CheckFailure as exc:
            if integers:
                _fail(
                    f"{exc}\n"
                    + _(
                        "It returned integers ({dtype}): was something rounded or truncated on "
                        "the way (astype(int), //)? Convert with {cast}."
                    ).format(dtype=returned.dtype, cast=returned.cast)
                )
            raise
        if integers:
            note(
                _(
                    "{what} returned integers ({dtype}) where floating-point values were "
                    "expected. The values are right, so this passes; but arithmetic that "
                    "writes into an integer array truncates, so {cast} is safer."
                ).format(what=what, dtype=returned.dtype, cast=returned.cast)
            )


def expect_scalar(
    actual: object,
    expected: float,
    *,
    what: str,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    factor_hints: Mapping[float, str] | None = None,
    mistakes: Mapping[str, float] | None = None,
) -> None:
    """Raise CheckFailure explaining how ``actual`` differs from the number ``expected``.

    ``mistakes`` maps the explanation of a known mistake to the number it gives: a value
    that is that number (and not ``expected``) is explained with it. Tolerances as in
    ``expect_array``: ``rtol=1e-6``, ``atol=1e-8``, looser for a float32 or float16 result.
    """
    number = _("a single number")
    with _judging(what, actual, number):
        if actual is None:
            _fail(_returned_none(what, _("a number")))
        returned = _as_returned(actual)
        size = None if returned is None else returned.array.size
        if returned is None or size == 0:
            _fail(
                _("{what} returned {got}; expected {wanted}.").format(
                    what=what, got=describe(actual), wanted=number
                )
            )
        if size != 1:
            _fail(
                _(
                    "{what} returned {got}; expected a single number (did you forget to take "
                    "the mean?)."
                ).format(what=what, got=describe(actual))
            )
        want = np.asarray(float(expected))
        # An integer-valued loss or count is still the right number; only bools are suspect.
        _check_dtype(what, returned, want)
        scalar = returned._replace(array=returned.array.reshape(()))
        rtol, atol = _tolerances(scalar.array.dtype, want, rtol, atol)
        got = complex(scalar.array.item()).real
        with np.errstate(all="ignore"):
            right = bool(np.isclose(got, float(expected), rtol=rtol, atol=atol))
            for explanation, value in (mistakes or {}).items():
                if not right and np.isclose(got, value, rtol=rtol, atol=atol):
                    _fail(
                        _("{what} returned {got}; expected {expected}.").format(
                            what=what, got=_num(got), expected=_num(expected)
                        )
                        + f" {explanation}"
                    )
        _check_values(what, scalar, want, rtol, atol, {}, factor_hints)


def expect_unmodified(before: np.ndarray, after: object, *, what: str, argument: str) -> None:
    """Raise CheckFailure if the call changed its argument: ``after`` differs from ``before``."""
    before = np.asarray(before)
    lead = _("{what} changed its argument {argument} in place").format(what=what, argument=argument)
    advice = _("Work on a copy instead (e.g. np.where(...) or {argument}.copy()).").format(
        argument=argument
    )
    try:
        returned = None if after is None else _as_returned(after)
    except Exception:  # noqa: BLE001 - whatever it became, it is not the array it was
        returned = None
    if returned is None:
        _fail(
            _("{lead}: it was {before} and is now {after}.").format(
                lead=lead, before=describe(before), after=describe(after)
            )
            + f" {advice}"
        )
    now = returned.array
    if now.shape != before.shape:
        was, new = _shape(before.shape), _shape(now.shape)
        message = _("{lead}: its shape was {before} and is now {after}.")
        _fail(message.format(lead=lead, before=was, after=new) + f" {advice}")
    if now.dtype != before.dtype:
        message = _("{lead}: its dtype was {before} and is now {after}.")
        _fail(message.format(lead=lead, before=before.dtype, after=now.dtype) + f" {advice}")
    with np.errstate(all="ignore"):
        changed = np.asarray(now != before)
        # A NaN that was already there is not a change, although NaN != NaN.
        if before.dtype.kind in "fc":
            changed &= ~(np.isnan(now) & np.isnan(before))
    if not changed.any():
        return
    first = _first(changed)
    _fail(
        _(
            "{lead}: {count} of {size} elements differ afterwards ({element} was {before}, is "
            "now {after})."
        ).format(
            lead=lead,
            count=np.count_nonzero(changed),
            size=before.size,
            element=_subscript(argument, first),
            before=_num(before[first]),
            after=_num(now[first]),
        )
        + f" {advice}"
    )


@contextmanager
def _judging(what: str, actual: object, wanted: str) -> Iterator[None]:
    """Turn any exception raised while judging a student's value into CheckFailure: a value
    the helpers did not foresee is the student's to answer for, not an error of the check."""
    try:
        yield
    except CheckFailure:
        raise
    except Exception as exc:  # noqa: BLE001 - see the docstring
        raise CheckFailure(
            _(
                "{what} returned {got}, which could not be compared with the expected {wanted} "
                "({error})."
            ).format(
                what=what, got=describe(actual), wanted=wanted, error=f"{type(exc).__name__}: {exc}"
            )
        ) from None


def _returned_none(what: str, wanted: str) -> str:
    return _("{what} returned None; expected {wanted}. Did you forget `return`?").format(
        what=what, wanted=wanted
    )


def _as_returned(actual: object) -> _Returned | None:
    if isinstance(actual, np.ndarray):
        return _Returned(actual, _("an array"), str(actual.dtype), ".astype(float)")
    if _is_tensor(actual):
        tensor: Any = actual
        data = tensor.detach().cpu()
        try:
            array = data.numpy()
        except TypeError:  # bfloat16 has no NumPy counterpart
            array = data.float().numpy()
        except RuntimeError:  # a tensor that is not data (sparse, quantized, a subclass)
            return None
        return _Returned(np.asarray(array), _("a torch tensor"), str(tensor.dtype), ".float()")
    if isinstance(actual, np.generic | bool | int | float | complex):
        array = np.asarray(actual)
        cast = "float(...)"
    elif isinstance(actual, list | tuple):
        try:
            with warnings.catch_warnings():  # lists of tensors warn before they convert
                warnings.simplefilter("ignore")
                array = np.asarray(actual)
        except (ValueError, TypeError, RuntimeError, OverflowError):  # ragged, tensors with grad
            return None
        cast = "np.asarray(..., dtype=float)"
    else:
        return None
    if array.dtype.kind not in "biufc":
        return None
    noun = (
        _("a {type}").format(type=type(actual).__name__)
        if isinstance(actual, list | tuple)
        else _("a value")
    )
    return _Returned(array, noun, str(array.dtype), cast)


def _check_dtype(what: str, returned: _Returned, expected: np.ndarray) -> None:
    kind = returned.array.dtype.kind
    words = {"what": what, "noun": returned.noun, "dtype": returned.dtype}
    if kind not in "biufc":
        _fail(
            _(
                "{what} returned {noun} of dtype {dtype}, which does not hold numbers; expected "
                "numbers ({expected})."
            ).format(expected=expected.dtype, **words)
        )
    # Integers are judged by their values (see _integers_for_floats); bools and complex
    # numbers are not what a numeric result is.
    if expected.dtype.kind != "f" or kind in "fiu":
        return
    advice = (
        _("Return real numbers.")
        if kind == "c"
        else _("Convert with {cast}.").format(cast=returned.cast)
    )
    message = _(
        "{what} returned {noun} of dtype {dtype}; expected floating-point values ({expected})."
    )
    _fail(message.format(expected=expected.dtype, **words) + f" {advice}")


def _integers_for_floats(returned: _Returned, expected: np.ndarray) -> bool:
    return expected.dtype.kind == "f" and returned.array.dtype.kind in "iu"


def _low_precision(dtype: np.dtype) -> np.finfo[Any] | None:
    """The float type's limits if it is less precise than float64, else None."""
    if dtype.kind != "f" or dtype.itemsize >= 8:
        return None
    return np.finfo(dtype)


def _tolerances(
    dtype: np.dtype, expected: np.ndarray, rtol: float, atol: float
) -> tuple[float, float]:
    """(rtol, atol) for a result of ``dtype``: looser for float32 and float16."""
    info = _low_precision(dtype)
    if info is None or expected.dtype.kind != "f":
        return rtol, atol
    eps = float(info.eps)
    with np.errstate(all="ignore"):
        finite = np.abs(expected[np.isfinite(expected)])
    scale = float(finite.max()) if finite.size else 0.0
    low_rtol = min(_LOW_PRECISION_EPS * eps, _MAX_LOW_PRECISION_RTOL)
    return max(rtol, low_rtol), max(atol, _LOW_PRECISION_ATOL_EPS * eps * scale)


def _float32_sentence(a: np.ndarray, e: np.ndarray, close: np.ndarray) -> str:
    """Say so when a float64 result's differences are no larger than float32 rounding: within
    100 float32 epsilons (1.2e-5 relative), tighter than the tolerance a float32 result gets,
    so that a loss off by 1e-4 (another eps inside a log) is not blamed on float32."""
    eps = float(_FLOAT32.eps)
    finite = np.abs(e[np.isfinite(e)])
    rtol, atol = 100 * eps, 10 * eps * (float(finite.max()) if finite.size else 0.0)
    with np.errstate(all="ignore"):
        within = np.isclose(a, e, rtol=rtol, atol=atol) | close
    if not within.all() or not np.isfinite(a).all():
        return ""
    return _(
        "The differences are no larger than float32 rounding: does your code compute in "
        "float32 somewhere (np.float32, .astype(np.float32), a torch tensor)? Compute in "
        "float64, as the inputs are."
    )


def _check_values(
    what: str,
    returned: _Returned,
    expected: np.ndarray,
    rtol: float,
    atol: float,
    same_shape: Mapping[str, np.ndarray],
    factor_hints: Mapping[float, str] | None,
) -> None:
    got = returned.array
    rtol, atol = _tolerances(got.dtype, expected, rtol, atol)
    dtype = np.result_type(got.dtype, expected.dtype, np.float64)
    a, e = got.astype(dtype), expected.astype(dtype)
    with np.errstate(all="ignore"):
        bad = ~np.isfinite(a) & np.isfinite(e)
        close = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=False)
    if bad.any():
        _fail(_nonfinite_message(what, a, e, bad, same_shape))
    if close.all():
        return
    precision = ""
    if _low_precision(got.dtype) is None and got.dtype.kind == "f" and dtype.kind == "f":
        precision = _float32_sentence(a, e, close)
    factor = None if precision else _factor_sentence(a, e, rtol, atol, factor_hints or {})
    extra = f"\n{precision}" if precision else ""
    if a.size == 1:
        text = f" {factor}" if factor else ""
        message = _("{what} returned {got}; expected {expected}.").format(
            what=what, got=_num(a.item()), expected=_num(e.item())
        )
        _fail(f"{message}{text}{extra}")
    if factor:
        example = _example(_first(~close), a, e, same_shape)
        message = _("{what} returned wrong values. {factor}\nFor example, {example}.")
        _fail(message.format(what=what, factor=factor, example=example))
    _fail(_difference_message(what, a, e, ~close, same_shape) + extra)
