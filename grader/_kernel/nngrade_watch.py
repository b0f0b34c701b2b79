"""Which library functions a student's call used, recorded inside the kernel for that call.

A check that asks (a request's ``watch``: dotted names such as ``torch.nn.BCELoss``) gets,
in the reply, how often each was called while the student's code ran: names and counts,
data only. The recording is a profile function (sys.setprofile) set for that call alone,
so a request that does not ask costs nothing. It matches what ran by identity, the code
object of a Python function or the C function object, so an alias
(``from torch.nn import BCELoss as L``), ``F.binary_cross_entropy`` or a call through a
module instance (``nn.BCELoss()(y_hat, y)`` runs ``BCELoss.forward``) are all seen.
The names are resolved after the call, from modules already imported (never importing
one), so a library the student imported inside the function is seen too.
"""

from __future__ import annotations

import inspect
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Recorder", "watching"]


class Recorder:
    """Counts the Python code objects and C functions that ran while it was the profiler."""

    def __init__(self) -> None:
        self.codes: dict[types.CodeType, int] = {}
        self.c_functions: dict[Any, int] = {}

    def __call__(self, frame: types.FrameType, event: str, arg: Any) -> None:
        # Called on every call and return while the student's code runs: keep it short.
        if event == "call":
            code = frame.f_code
            self.codes[code] = self.codes.get(code, 0) + 1
        elif event == "c_call":
            try:
                self.c_functions[arg] = self.c_functions.get(arg, 0) + 1
            except TypeError:  # an unhashable callable is nothing a check can name
                pass

    def counts(self, names: list[str]) -> dict[str, int]:
        """How often each of ``names`` ran (names that never ran are left out)."""
        found = {}
        for name in names:
            count = 0
            for target in _targets(name):
                if isinstance(target, types.CodeType):
                    count += self.codes.get(target, 0)
                else:
                    try:
                        count += self.c_functions.get(target, 0)
                    except TypeError:
                        pass
            if count:
                found[name] = count
        return found


@contextmanager
def watching(names: list[str] | None) -> Iterator[Recorder | None]:
    """Record calls while the block runs if ``names`` asks for any; otherwise do nothing."""
    if not names:
        yield None
        return
    recorder = Recorder()
    before = sys.getprofile()
    sys.setprofile(recorder)
    try:
        yield recorder
    finally:
        sys.setprofile(before)


def _targets(name: str) -> list[Any]:
    """The code objects or C functions that running ``name`` means; none if its module was
    never imported or it does not exist. A class means its own methods (``__init__``,
    ``forward``): making or calling an instance of it."""
    value = _resolve(name)
    if value is None:
        return []
    if inspect.isclass(value):
        targets = []
        for member in vars(value).values():
            if isinstance(member, staticmethod | classmethod):
                member = member.__func__
            targets += _function_targets(member)
        return targets
    return _function_targets(value) or [value]


def _function_targets(value: Any) -> list[Any]:
    """The code objects of a Python function, of what it wraps (functools.wraps), and of
    a bound method's function; [] for anything else."""
    targets = []
    seen = 0
    while value is not None and seen < 10:  # a __wrapped__ chain, not a loop
        seen += 1
        if isinstance(value, types.MethodType):
            value = value.__func__
        code = getattr(value, "__code__", None)
        if isinstance(code, types.CodeType):
            targets.append(code)
        value = getattr(value, "__wrapped__", None)
    return targets


def _resolve(name: str) -> Any:
    """What the dotted ``name`` is, starting from the longest imported module."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        module = sys.modules.get(".".join(parts[:cut]))
        if module is None:
            continue
        value: Any = module
        for part in parts[cut:]:
            value = inspect.getattr_static(value, part, None)
            if isinstance(value, staticmethod | classmethod):
                value = value.__func__
            if value is None:
                return None
        return value
    return None
