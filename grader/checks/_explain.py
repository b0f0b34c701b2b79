"""The words of the comparison helpers' messages: how a value, a shape, a number and a
difference between two arrays are said to a student."""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from typing import Any, NoReturn

import numpy as np

from grader.checks._i18n import N_, ngettext
from grader.checks._i18n import gettext as _
from grader.checks.failures import CheckFailure
from grader.checks.handles import ObjectHandle

__all__ = ["describe"]

_MAX_EXAMPLES = 3
# A hint for a factor is only worth giving when the factor is that exact number, not merely
# near it; rounding in the student's float arithmetic stays well below this.
_FACTOR_RTOL = 1e-6


def _nonfinite_hint() -> str:
    return _(
        "NaN usually comes from 0/0, inf - inf, or the log or square root of a negative "
        "number; inf from division by zero, log(0), or overflow (e.g. np.exp of a large number)."
    )


# The inputs shaped like the expected result, by name: their values explain positions.
_Inputs = Mapping[str, np.ndarray]


def describe(value: object) -> str:
    """Describe ``value`` briefly, e.g. ``an array of shape (3, 4) and dtype float64``."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return _("an array of shape {shape} and dtype {dtype}").format(
            shape=_shape(value.shape), dtype=value.dtype
        )
    # Before the Python types: np.float64 is a subclass of float.
    if isinstance(value, np.generic):
        return _("the numpy {dtype} {value}").format(dtype=value.dtype, value=_num(value))
    if _is_tensor(value):
        tensor: Any = value
        return _("a torch tensor of shape {shape} and dtype {dtype}").format(
            shape=_shape(tensor.shape), dtype=tensor.dtype
        )
    if isinstance(value, bool | int | float | complex):
        return _("the {type} {value}").format(type=type(value).__name__, value=_num(value))
    if isinstance(value, list | tuple):
        return ngettext("a {type} of {num} item", "a {type} of {num} items", len(value)).format(
            type=type(value).__name__, num=len(value)
        )
    if isinstance(value, dict):
        return ngettext("a dict with {num} key", "a dict with {num} keys", len(value)).format(
            num=len(value)
        )
    if isinstance(value, str):
        return _("a str")
    if isinstance(value, ObjectHandle):  # an object that stayed in the kernel
        return _("an object of type {type}").format(type=value.type)
    return _("an object of type {type}").format(type=type(value).__name__)


def _fail(message: str) -> NoReturn:
    raise CheckFailure(message)


def _is_tensor(value: object) -> bool:
    # Looking at the type's module first keeps torch optional: it is never imported here,
    # and a value whose type lives in torch means torch is already loaded.
    if not type(value).__module__.startswith("torch"):
        return False
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def _shape_message(
    what: str, got: tuple[int, ...], expected: tuple[int, ...], same_shape: _Inputs
) -> str:
    want = _shape(expected)
    if same_shape:
        want = _("{shape} (the same shape as {inputs})").format(
            shape=want, inputs=_(" and ").join(same_shape)
        )
    words = {"what": what, "got": _shape(got), "want": want}
    n = got[0] if len(got) == 2 and got[0] == got[1] else 0
    if n > 1 and expected in ((n,), (n, 1), (1, n)):
        return _(
            "{what} returned shape {got}, an (n, n) matrix where {want} was expected: that is "
            "what an array of shape ({n},) and one of shape ({n}, 1) broadcast to when combined "
            "element-wise (for example y of shape ({n},) with y_hat of shape ({n}, 1)). Give both "
            "the same shape first (y.reshape(-1, 1), or y_hat.reshape(-1))."
        ).format(n=n, **words)
    if len(got) >= 2 and got == expected[::-1]:
        return _(
            "{what} returned shape {got}, the transpose of the expected {want}. "
            "Check the order of the operands in your matrix products."
        ).format(**words)
    if not got:
        return _("{what} returned a single number (shape ()); expected shape {want}.").format(
            **words
        )
    if not expected and math.prod(got) == 1:
        return _(
            "{what} returned shape {got}; expected a single number (shape ()). "
            "Use .item() to get the number."
        ).format(**words)
    squeezed_got = tuple(n for n in got if n != 1)
    if squeezed_got == tuple(n for n in expected if n != 1) and len(got) != len(expected):
        n = abs(len(got) - len(expected))
        if len(got) < len(expected):
            return ngettext(
                "{what} returned shape {got}; expected {want}: a dimension of size 1 is missing "
                "(keepdims=True?).",
                "{what} returned shape {got}; expected {want}: {num} dimensions of size 1 are "
                "missing (keepdims=True?).",
                n,
            ).format(num=n, **words)
        return ngettext(
            "{what} returned shape {got}; expected {want}: it has an extra dimension of size 1 "
            "(keepdims=True, or a reshape?).",
            "{what} returned shape {got}; expected {want}: it has {num} extra dimensions of "
            "size 1 (keepdims=True, or a reshape?).",
            n,
        ).format(num=n, **words)
    if math.prod(got) == math.prod(expected):
        return _(
            "{what} returned an array that has the right number of elements but shape {got}; "
            "expected {want}."
        ).format(**words)
    return _("{what} returned shape {got}; expected {want}.").format(**words)


def _nonfinite_message(
    what: str, a: np.ndarray, e: np.ndarray, bad: np.ndarray, same_shape: _Inputs
) -> str:
    if a.size == 1:
        got, want = _num(a.item()), _num(e.item())
        message = _("{what} returned {got}; expected {want}, a finite number.")
        return message.format(what=what, got=got, want=want) + "\n" + _nonfinite_hint()
    nan = int(np.count_nonzero(np.isnan(a) & bad))
    inf = int(np.count_nonzero(bad)) - nan
    counts = []
    if nan:
        counts.append(ngettext("{num} NaN value", "{num} NaN values", nan).format(num=nan))
    if inf:
        counts.append(ngettext("{num} inf value", "{num} inf values", inf).format(num=inf))
    first = _first(bad)
    where = ", ".join(f"{name} = {_num(values[first])}" for name, values in same_shape.items())
    words = {"what": what, "counts": _(" and ").join(counts), "index": first, "where": where}
    message = (
        _(
            "{what} returned {counts} where finite values were expected; the first is at "
            "index {index}, where {where}."
        )
        if where
        else _(
            "{what} returned {counts} where finite values were expected; the first is at "
            "index {index}."
        )
    )
    return message.format(**words) + "\n" + _nonfinite_hint()


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
    many = a.size > 1
    if flipped:
        text = (
            _("The sign is flipped: every value is the negative of the expected one")
            if many
            else _("The sign is flipped: it is the negative of the expected value")
        )
    else:
        text = (
            _("Every value is {factor} times the expected one")
            if many
            else _("It is {factor} times the expected value")
        ).format(factor=f"{c:.4g}")
    return f"{text} ({hint})." if hint else f"{text}."


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
        _(
            "{what} returned wrong values: {count} of {size} elements differ; the largest "
            "difference is {distance} at index {index}: expected {expected}, got {got}."
        ).format(
            what=what,
            count=count,
            size=a.size,
            distance=_num(distance[worst]),
            index=worst,
            expected=_num(e[worst]),
            got=_num(a[worst]),
        )
    ]
    patterns = [
        _(words).format(name=name)
        for name, values in same_shape.items()
        if values.dtype.kind in "biuf"
        if (words := _separating(values, differs)) is not None
    ]
    if patterns:
        joined = _(" and ").join(patterns)
        lead = _("All of them are {where}.") if count > 1 else _("It is {where}.")
        lines.append(lead.format(where=joined))
    if count > 1 or same_shape:
        positions = [_as_index(row) for row in np.argwhere(differs)[:_MAX_EXAMPLES]]
        lines.append(_("For example:"))
        lines.extend(f"  {_example(index, a, e, same_shape)}" for index in positions)
    return "\n".join(lines)


# Conditions on an input that may explain which elements are wrong, with the words for them.
_CONDITIONS = (
    (N_("where {name} == 0 exactly (check what you return at 0)"), np.equal),
    (N_("where {name} < 0"), np.less),
    (N_("where {name} > 0"), np.greater),
)


def _separating(values: np.ndarray, differs: np.ndarray) -> str | None:
    """The conditions on ``values`` that hold for every wrong element and for none of the
    right ones. A condition that the right elements meet too (every grad_output > 0, right
    or wrong) says nothing about the mistake and would send the student the wrong way; so
    does one with no right element to set the wrong ones apart from."""
    if differs.all():
        return None
    with np.errstate(all="ignore"):
        for words, test in _CONDITIONS:
            holds = test(values, 0)
            if np.all(holds[differs]) and not np.any(holds[~differs]):
                return words
    return None


def _example(index: tuple[int, ...], a: np.ndarray, e: np.ndarray, same_shape: _Inputs) -> str:
    where = ", ".join(f"{_subscript(k, index)} = {_num(v[index])}" for k, v in same_shape.items())
    place = where or _("index {index}").format(index=index)
    return _("at {place}: expected {expected}, got {got}").format(
        place=place, expected=_num(e[index]), got=_num(a[index])
    )


def _first(mask: np.ndarray) -> tuple[int, ...]:
    return _as_index(np.argwhere(mask)[0])


def _as_index(index: Any) -> tuple[int, ...]:
    return tuple(int(i) for i in index)


def _subscript(name: str, index: tuple[int, ...]) -> str:
    return f"{name}[{', '.join(map(str, index))}]" if index else name


def _shape(shape: tuple[int, ...]) -> str:
    return str(tuple(int(n) for n in shape))


def _num(value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    try:
        return f"{value:.6g}"
    except (TypeError, ValueError, OverflowError):  # an int too large for a float
        text = repr(value)
        return text if len(text) <= 40 else f"{text[:20]}...({len(text)} digits)"
