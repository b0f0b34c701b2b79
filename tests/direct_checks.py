"""An assignment's checks called directly, without a pytest session per run: for sweeping
hundreds of seeds in seconds.

A run through ``grader.grading.engine.run_checks`` costs about a second of pytest's own
work (collection, plugins, garbage collection) before any check runs; a sweep of 200 seeds
cannot afford that. This calls each check function with the fixtures the grading plugin
gives (``notebook``, ``rng``, ``run_seed``, ``record_property``) and the check file's own
fixtures, case by case as ``pytest.mark.parametrize`` lists them. It decides nothing about
points: a check either returns (passed) or raises (the exception is returned).
"""

from __future__ import annotations

import importlib.util
import inspect
import itertools
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from grader.checks.failures import NotJudged
from grader.checks.notebook import InProcessTransport, Notebook
from grader.grading.assignment import Assignment

ASSIGNMENTS = Path(__file__).resolve().parents[1] / "assignments"
__all__ = ["Case", "cases", "errors", "failures", "run"]


@dataclass(frozen=True)
class Case:
    """One check with one set of parameters, named as pytest names it (test_x[a-b])."""

    name: str
    function: Callable[..., Any]
    params: dict[str, Any]
    module: ModuleType

    @property
    def seeded(self) -> bool:
        """Whether the check's inputs come from the seed (``rng``, ``run_seed`` or a fixture
        of its file, which all take the run's seed)."""
        given = {"notebook", "record_property", *self.params}
        return bool(set(inspect.signature(self.function).parameters) - given)


def _load(path: Path) -> ModuleType:
    name = f"direct_checks_{path.parent.name}_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # The check files' markers (points, time_limit) are the grading plugin's; the project's
    # own pytest session, which imports them here, does not know them (--strict-markers).
    config, pytest.mark._config = pytest.mark._config, None
    try:
        spec.loader.exec_module(module)
    finally:
        pytest.mark._config = config
    sys.modules[name] = module
    return module


def _parametrizations(function: Callable[..., Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    marks = [m for m in getattr(function, "pytestmark", []) if m.name == "parametrize"]
    axes = []
    for mark in reversed(marks):  # pytest ids list the innermost decorator first
        names, values = mark.args[0], list(mark.args[1])
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
        ids = mark.kwargs.get("ids")
        ids = list(ids) if ids is not None else [None] * len(values)
        axis = []
        for value, given in zip(values, ids, strict=True):
            row = value if len(names) > 1 else (value,)
            label = given if given is not None else "-".join(map(_id, row))
            axis.append((label, dict(zip(names, row, strict=True))))
        axes.append(axis)
    for combination in itertools.product(*axes):
        label = "-".join(str(part[0]) for part in combination)
        params = {k: v for part in combination for k, v in part[1].items()}
        yield (f"[{label}]" if combination else ""), params


def _id(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def cases(name: str, *, include_hidden: bool = True) -> list[Case]:
    """Every check of assignment ``name``, one Case per parametrized case."""
    assignment = Assignment.load(ASSIGNMENTS / name)
    files = [*assignment.checks, *(assignment.hidden_checks if include_hidden else ())]
    found = []
    for path in files:
        module = _load(Path(path))
        for attr, function in vars(module).items():
            if attr.startswith("test_") and inspect.isfunction(function):
                for suffix, params in _parametrizations(function):
                    found.append(Case(attr + suffix, function, params, module))
    return found


def run(
    name: str,
    namespace: dict[str, Any],
    seed: int,
    *,
    include_hidden: bool = True,
    only: Callable[[str], bool] | None = None,
    seeded_only: bool = False,
) -> dict[str, BaseException | None]:
    """Each check's outcome on ``namespace`` with ``seed`` (of the checks whose names
    ``only`` accepts): None if it passed, else what it raised."""
    transport = InProcessTransport(namespace)
    module_fixtures: dict[tuple[str, str], Any] = {}
    outcomes: dict[str, BaseException | None] = {}
    for case in cases(name, include_hidden=include_hidden):
        if (only is not None and not only(case.name)) or (seeded_only and not case.seeded):
            continue
        given = {
            "notebook": lambda: Notebook(transport, timeout=60.0),
            "rng": lambda case=case: np.random.default_rng([seed, zlib.crc32(case.name.encode())]),
            "run_seed": lambda: seed,
            "record_property": lambda: lambda key, value: None,
        }
        kwargs = {}
        for parameter in inspect.signature(case.function).parameters:
            if parameter in case.params:
                kwargs[parameter] = case.params[parameter]
            elif parameter in given:
                kwargs[parameter] = given[parameter]()
            else:
                key = (case.module.__name__, parameter)
                if key not in module_fixtures:
                    module_fixtures[key] = _fixture(case.module, parameter, seed)
                kwargs[parameter] = module_fixtures[key]
        try:
            case.function(**kwargs)
            outcomes[case.name] = None
        except Exception as exc:  # noqa: BLE001 - the outcome is what the caller judges
            outcomes[case.name] = exc
    return outcomes


def _fixture(module: ModuleType, name: str, seed: int) -> Any:
    fixture = getattr(module, name)
    function = fixture._get_wrapped_function()
    needs = inspect.signature(function).parameters
    return function(**({"run_seed": seed} if "run_seed" in needs else {}))


def failures(outcomes: dict[str, BaseException | None]) -> dict[str, str]:
    """What each check that did not pass raised, in words."""
    return {n: f"{type(e).__name__}: {e}" for n, e in outcomes.items() if e is not None}


def errors(outcomes: dict[str, BaseException | None]) -> dict[str, str]:
    """The checks that would end in `error` when graded: they raised something other than
    an AssertionError (CheckFailure is one) or NotJudged, as the grading plugin tells
    them apart."""
    return {
        n: f"{type(e).__name__}: {e}"
        for n, e in outcomes.items()
        if e is not None and not isinstance(e, AssertionError | NotJudged)
    }
