"""Compare a student's result with the reference one and explain any mismatch in plain words."""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from typing import Any, NamedTuple, NoReturn

import numpy as np

from grader.checks.failures import CheckFailure
from grader.checks.handles import ObjectHandle

__all__ = ["describe", "expect_array", "expect_scalar", "expect_unmodified"]

_MAX_EXAMPLES = 3
# A hint for a factor is only worth giving when the factor is that exact number, not merely
# near it; rounding in the student's float arithmetic stays well below this.
_FACTOR_RTOL = 1e-6
_NONFINITE_HINT = (
    "NaN usually comes from 0/0, inf - inf, or the log or square root of a negative number; "
    "inf from division by zero, log(0), or overflow (e.g. np.exp of a large number)."
)

# The inputs shaped like the expected result, by name: their values explain positions.
_Inputs = Mapping[str, np.ndarray]


class _Returned(NamedTuple):
    """A returned value as an array, plus the words a message needs to talk about it."""

    array: np.ndarray
    noun: str
    dtype: str
    cast: str


def describe(value: object) -> str:
    """Describe ``value`` briefly, e.g. ``an array of shape (3, 4) and dtype float64``."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of shape {_shape(value.shape)} and dtype {value.dtype}"
    # Before the Python types: np.float64 is a subclass of float.
    if isinstance(value, np.generic):
        return f"the numpy {value.dtype} {_num(value)}"
    if _is_tensor(value):
        tensor: Any = value
        return f"a torch tensor of shape {_shape(tensor.shape)} and dtype {tensor.dtype}"
    if isinstance(value, bool | int | float | complex):
        return f"the {type(value).__name__} {_num(value)}"
    if isinstance(value, list | tuple):
        return f"a {type(value).__name__} of {_count(len(value), 'item')}"
    if isinstance(value, dict):
        return f"a dict with {_count(len(value), 'key')}"
    if isinstance(value, str):
        return "a str"
    if isinstance(value, ObjectHandle):  # an object that stayed in the kernel
        return f"an object of type {value.type}"
    return f"an object of type {type(value).__name__}"


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
    """Raise CheckFailure explaining how ``actual`` differs from the array ``expected``."""
    expected = np.asarray(expected)
    wanted = f"an array of shape {_shape(expected.shape)}" if expected.ndim else "a single number"
    if actual is None:
        _fail(f"{what} returned None; expected {wanted}. Did you forget `return`?")
    returned = _as_returned(actual)
    if returned is None:
        note = ""
        if isinstance(actual, list | tuple):
            note = " Its items could not be turned into an array of numbers."
        _fail(f"{what} returned {describe(actual)}; expected {wanted}.{note}")
    # A plain Python int carries no dtype a student chose, so only array dtypes are judged.
    _check_dtype(what, returned, expected, allow_int=type(actual) is int)
    same_shape = {
        name: np.asarray(value)
        for name, value in (inputs or {}).items()
        if np.shape(value) == expected.shape
    }
    if returned.array.shape != expected.shape:
        _fail(_shape_message(what, returned.array.shape, expected.shape, same_shape))
    _check_values(what, returned.array, expected, rtol, atol, same_shape, factor_hints)


def expect_scalar(
    actual: object,
    expected: float,
    *,
    what: str,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    factor_hints: Mapping[float, str] | None = None,
) -> None:
    """Raise CheckFailure explaining how ``actual`` differs from the number ``expected``."""
    if actual is None:
        _fail(f"{what} returned None; expected a number. Did you forget `return`?")
    returned = _as_returned(actual)
    if returned is None:
        _fail(f"{what} returned {describe(actual)}; expected a single number.")
    size = returned.array.size
    if size != 1:
        hint = " (did you forget to take the mean?)" if size > 1 else ""
        _fail(f"{what} returned {describe(actual)}; expected a single number{hint}.")
    want = np.asarray(float(expected))
    # An integer-valued loss or count is still the right number; only bools are suspect.
    _check_dtype(what, returned, want, allow_int=True)
    _check_values(what, returned.array.reshape(()), want, rtol, atol, {}, factor_hints)


def expect_unmodified(before: np.ndarray, after: object, *, what: str, argument: str) -> None:
    """Raise CheckFailure if the call changed its argument: ``after`` differs from ``before``."""
    before = np.asarray(before)
    lead = f"{what} changed its argument {argument} in place"
    advice = f"Work on a copy instead (e.g. np.where(...) or {argument}.copy())."
    returned = None if after is None else _as_returned(after)
    if returned is None:
        _fail(f"{lead}: it was {describe(before)} and is now {describe(after)}. {advice}")
    now = returned.array
    if now.shape != before.shape:
        was, new = _shape(before.shape), _shape(now.shape)
        _fail(f"{lead}: its shape was {was} and is now {new}. {advice}")
    if now.dtype != before.dtype:
        _fail(f"{lead}: its dtype was {before.dtype} and is now {now.dtype}. {advice}")
    with np.errstate(all="ignore"):
        changed = np.asarray(now != before)
        # A NaN that was already there is not a change, although NaN != NaN.
        if before.dtype.kind in "fc":
            changed &= ~(np.isnan(now) & np.isnan(before))
    if not changed.any():
        return
    first = _first(changed)
    _fail(
        f"{lead}: {np.count_nonzero(changed)} of {before.size} elements differ afterwards "
        f"({_subscript(argument, first)} was {_num(before[first])}, is now {_num(now[first])}). "
        f"{advice}"
    )


def _fail(message: str) -> NoReturn:
    raise CheckFailure(message)


def _is_tensor(value: object) -> bool:
    # Looking at the type's module first keeps torch optional: it is never imported here,
    # and a value whose type lives in torch means torch is already loaded.
    if not type(value).__module__.startswith("torch"):
        return False
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def _as_returned(actual: object) -> _Returned | None:
    if isinstance(actual, np.ndarray):
        return _Returned(actual, "an array", str(actual.dtype), ".astype(float)")
    if _is_tensor(actual):
        tensor: Any = actual
        data = tensor.detach().cpu()
        try:
            array = data.numpy()
        except TypeError:  # bfloat16 has no NumPy counterpart
            array = data.float().numpy()
        return _Returned(np.asarray(array), "a torch tensor", str(tensor.dtype), ".float()")
    if isinstance(actual, np.generic | bool | int | float | complex):
        array = np.asarray(actual)
        cast = "float(...)"
    elif isinstance(actual, list | tuple):
        try:
            array = np.asarray(actual)
        except (ValueError, TypeError, RuntimeError):  # ragged, or tensors that need grad
            return None
        cast = "np.asarray(..., dtype=float)"
    else:
        return None
    if array.dtype.kind not in "biufc":
        return None
    noun = f"a {type(actual).__name__}" if isinstance(actual, list | tuple) else "a value"
    return _Returned(array, noun, str(array.dtype), cast)


def _check_dtype(what: str, returned: _Returned, expected: np.ndarray, *, allow_int: bool) -> None:
    kind = returned.array.dtype.kind
    start = f"{what} returned {returned.noun} of dtype {returned.dtype}"
    if kind not in "biufc":
        _fail(f"{start}, which does not hold numbers; expected numbers ({expected.dtype}).")
    if expected.dtype.kind != "f" or kind == "f" or (allow_int and kind in "iu"):
        return
    advice = "Return real numbers." if kind == "c" else f"Convert with {returned.cast}."
    _fail(f"{start}; expected floating-point values ({expected.dtype}). {advice}")


def _shape_message(
    what: str, got: tuple[int, ...], expected: tuple[int, ...], same_shape: _Inputs
) -> str:
    want = _shape(expected)
    if same_shape:
        want += f" (the same shape as {' and '.join(same_shape)})"
    start = f"{what} returned shape {_shape(got)}"
    if len(got) >= 2 and got == expected[::-1]:
        return (
            f"{start}, the transpose of the expected {want}. "
            "Check the order of the operands in your matrix products."
        )
    if not got:
        return f"{what} returned a single number (shape ()); expected shape {want}."
    if not expected and math.prod(got) == 1:
        return f"{start}; expected a single number (shape ()). Use .item() to get the number."
    squeezed_got = tuple(n for n in got if n != 1)
    if squeezed_got == tuple(n for n in expected if n != 1) and len(got) != len(expected):
        n = abs(len(got) - len(expected))
        dims = "dimension of size 1" if n == 1 else f"{n} dimensions of size 1"
        if len(got) < len(expected):
            missing = f"a {dims} is" if n == 1 else f"{dims} are"
            return f"{start}; expected {want}: {missing} missing (keepdims=True?)."
        extra = f"an extra {dims}" if n == 1 else dims.replace(" ", " extra ", 1)
        return f"{start}; expected {want}: it has {extra} (keepdims=True, or a reshape?)."
    if math.prod(got) == math.prod(expected):
        return (
            f"{what} returned an array that has the right number of elements but shape "
            f"{_shape(got)}; expected {want}."
        )
    return f"{start}; expected {want}."


def _check_values(
    what: str,
    got: np.ndarray,
    expected: np.ndarray,
    rtol: float,
    atol: float,
    same_shape: _Inputs,
    factor_hints: Mapping[float, str] | None,
) -> None:
    dtype = np.result_type(got.dtype, expected.dtype, np.float64)
    a, e = got.astype(dtype), expected.astype(dtype)
    with np.errstate(all="ignore"):
        bad = ~np.isfinite(a) & np.isfinite(e)
        close = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=False)
    if bad.any():
        _fail(_nonfinite_message(what, a, e, bad, same_shape))
    if close.all():
        return
    factor = _factor_sentence(a, e, rtol, atol, factor_hints or {})
    if a.size == 1:
        note = f" {factor}" if factor else ""
        _fail(f"{what} returned {_num(a.item())}; expected {_num(e.item())}.{note}")
    if factor:
        example = _example(_first(~close), a, e, same_shape)
        _fail(f"{what} returned wrong values. {factor}\nFor example, {example}.")
    _fail(_difference_message(what, a, e, ~close, same_shape))


def _nonfinite_message(
    what: str, a: np.ndarray, e: np.ndarray, bad: np.ndarray, same_shape: _Inputs
) -> str:
    if a.size == 1:
        got, want = _num(a.item()), _num(e.item())
        return f"{what} returned {got}; expected {want}, a finite number.\n{_NONFINITE_HINT}"
    nan = int(np.count_nonzero(np.isnan(a) & bad))
    inf = int(np.count_nonzero(bad)) - nan
    counts = [_count(n, noun) for n, noun in ((nan, "NaN value"), (inf, "inf value")) if n]
    first = _first(bad)
    where = ", ".join(f"{name} = {_num(values[first])}" for name, values in same_shape.items())
    return (
        f"{what} returned {' and '.join(counts)} "
        f"where finite values were expected; the first is at index {first}"
        f"{', where ' + where if where else ''}.\n{_NONFINITE_HINT}"
    )


def _factor_sentence(
    a: np.ndarray, e: np.ndarray, rtol: float, atol: float, hints: Mapping[float, str]
) -> str | None:
    """Say so if ``a`` is ``e`` times a constant (other than 1); None otherwise."""
    if np.iscomplexobj(a):
        return None
    a, e = a.ravel(), e.ravel()
    scale = float(np.max(np.abs(e)))
    with np.errstate(all="ignore"):
        c = float(np.dot(a, e) / np.dot(e, e))
        fits = math.isfinite(c) and bool(np.allclose(a, c * e, rtol=rtol, atol=atol))
    # Near-zero values fit any factor, and a factor that rounds to 1 explains nothing.
    if not fits or scale <= 10 * atol or abs(c) * scale <= 10 * atol or abs(c - 1) < 5e-4:
        return None
    tol = max(rtol, _FACTOR_RTOL)
    hint = next((text for k, text in hints.items() if abs(c - k) <= tol * abs(k)), None)
    flipped = abs(c + 1) <= tol
    # With a single nonzero value every wrong answer "fits" some factor: only a known one counts.
    if np.count_nonzero(e) < 2 and hint is None and not flipped:
        return None
    subject, noun = ("every value", "one") if a.size > 1 else ("it", "value")
    if flipped:
        text = f"the sign is flipped: {subject} is the negative of the expected {noun}"
    else:
        text = f"{subject} is {c:.4g} times the expected {noun}"
    return f"{text[0].upper()}{text[1:]}{f' ({hint})' if hint else ''}."


def _difference_message(
    what: str, a: np.ndarray, e: np.ndarray, differs: np.ndarray, same_shape: _Inputs
) -> str:
    with np.errstate(all="ignore"):
        distance = np.abs(a - e)
    # An inf or NaN expected value makes the distance NaN; it still counts as the largest.
    distance = np.where(np.isnan(distance), np.inf, distance)
    worst = _as_index(np.unravel_index(np.argmax(np.where(differs, distance, -1.0)), a.shape))
    count = int(np.count_nonzero(differs))
    lines = [
        f"{what} returned wrong values: {count} of {a.size} elements differ; the largest "
        f"difference is {_num(distance[worst])} at index {worst}: "
        f"expected {_num(e[worst])}, got {_num(a[worst])}."
    ]
    patterns = []
    with np.errstate(all="ignore"):
        numeric = {k: v[differs] for k, v in same_shape.items() if v.dtype.kind in "biuf"}
        for name, at in numeric.items():
            if np.all(at == 0):
                patterns.append(f"where {name} == 0 exactly (check what you return at 0)")
            elif np.all(at < 0):
                patterns.append(f"where {name} < 0")
            elif np.all(at > 0):
                patterns.append(f"where {name} > 0")
    if patterns:
        lines.append(f"{'All of them are' if count > 1 else 'It is'} {' and '.join(patterns)}.")
    if count > 1 or same_shape:
        positions = [_as_index(row) for row in np.argwhere(differs)[:_MAX_EXAMPLES]]
        lines.append("For example:")
        lines.extend(f"  {_example(index, a, e, same_shape)}" for index in positions)
    return "\n".join(lines)


def _example(index: tuple[int, ...], a: np.ndarray, e: np.ndarray, same_shape: _Inputs) -> str:
    where = ", ".join(f"{_subscript(k, index)} = {_num(v[index])}" for k, v in same_shape.items())
    return f"at {where or f'index {index}'}: expected {_num(e[index])}, got {_num(a[index])}"


def _first(mask: np.ndarray) -> tuple[int, ...]:
    return _as_index(np.argwhere(mask)[0])


def _as_index(index: Any) -> tuple[int, ...]:
    return tuple(int(i) for i in index)


def _subscript(name: str, index: tuple[int, ...]) -> str:
    return f"{name}[{', '.join(map(str, index))}]" if index else name


def _shape(shape: tuple[int, ...]) -> str:
    return str(tuple(int(n) for n in shape))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _num(value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    try:
        return f"{value:.6g}"
    except (TypeError, ValueError):
        return repr(value)
