"""The pytest plugin that turns an assignment's test functions into scored checks.

Registered per submission (``pytest.main(..., plugins=[CheckPlugin(...)])``). It
declares the markers, provides the ``notebook``, ``rng`` and ``run_seed`` fixtures, drops
hidden checks when a student self-checks, and records every check's points and message.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Callable, Collection, Hashable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.checks._i18n import gettext as _
from grader.checks.failures import CheckFailure, NotJudged
from grader.checks.notebook import Notebook, Transport
from grader.checks.notes import collecting
from grader.grading.assignment import CHARGE_MODES
from grader.grading.results import CheckOutcome, CheckResult

__all__ = ["DEFAULT_TIME_LIMIT", "NOT_JUDGED_LEAD", "CheckPlugin", "not_judged_message"]

DEFAULT_TIME_LIMIT = 10.0
# How a not-judged check's message begins, in every output.
NOT_JUDGED_LEAD = "Not judged because"

MARKERS = (
    "points(n, shared=False): the check is worth n points; with shared=True the n points "
    "are divided equally among the cases of a parametrized check",
    "hidden: run when grading, not when a student self-checks",
    "time_limit(seconds): how long each call into the student's notebook may take",
    "self_check_only: run when a student self-checks; when grading, the hidden check of the "
    "same name stands in for it (judged against the reference, not the notebook's given code)",
)


class CheckPlugin:
    def __init__(
        self,
        transport: Transport,
        *,
        seed: int,
        include_hidden: bool,
        hidden_files: Collection[Path] = (),
        charge_each_cause: str = "once",
    ) -> None:
        if charge_each_cause not in CHARGE_MODES:
            raise ValueError(f"charge_each_cause must be one of {CHARGE_MODES}")
        self.transport = transport
        self.charge_each_cause = charge_each_cause
        # cause -> the description of the check that was charged for it
        self._charged: dict[str, str] = {}
        self.seed = seed
        self.include_hidden = include_hidden
        # Every check in these files is hidden, marked or not.
        self.hidden_files = frozenset(Path(path).resolve() for path in hidden_files)
        self.results: list[CheckResult] = []
        self.collection_errors: list[str] = []
        self._points: dict[str, float] = {}
        # The check that explained each cause in full (see CheckFailure.cause).
        self._explained: dict[Hashable, str] = {}
        # Hidden checks that replace a visible one when grading: reported as visible.
        self._stand_ins: frozenset[str] = frozenset()

    # -- configuration and collection ---------------------------------------------------

    def pytest_configure(self, config: pytest.Config) -> None:
        for line in MARKERS:
            config.addinivalue_line("markers", line)

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        if self.include_hidden:
            # A hidden check may be the visible one's own function, imported with another basis.
            dropped = [i for i in items if _self_check_only(i) and not self._hidden(i)]
            self._stand_ins = self._check_stand_ins(items, dropped)
        else:
            dropped = [item for item in items if self._hidden(item)]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = [item for item in items if item not in dropped]
        cases = Counter(_function_id(item) for item in items)
        for item in items:
            marker = item.get_closest_marker("points")
            if marker is None or not marker.args:
                error = f"{item.nodeid}: every check needs @pytest.mark.points(n)"
                self.collection_errors.append(error)
                raise pytest.UsageError(error)
            points = float(marker.args[0])
            if marker.kwargs.get("shared"):
                points /= cases[_function_id(item)]
            self._points[item.nodeid] = points

    def _hidden(self, item: pytest.Item) -> bool:
        return item.get_closest_marker("hidden") is not None or item.path in self.hidden_files

    def _check_stand_ins(
        self, items: list[pytest.Item], self_check_only: list[pytest.Item]
    ) -> frozenset[str]:
        """The names of the hidden checks that stand in for ``self_check_only`` ones, which
        must each have one: otherwise their points would vanish when grading."""
        hidden = {item.name for item in items if self._hidden(item)}
        for item in self_check_only:
            if item.name not in hidden:
                error = f"{item.nodeid}: self_check_only, but no hidden check is named {item.name}"
                self.collection_errors.append(error)
                raise pytest.UsageError(error)
        return frozenset(item.name for item in self_check_only)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(str(report.longrepr))

    # -- fixtures ---------------------------------------------------------------------------

    @pytest.fixture
    def notebook(self, request: pytest.FixtureRequest) -> Notebook:
        """The student's notebook; ``notebook.call("relu", x)`` runs their function."""
        marker = request.node.get_closest_marker("time_limit")
        limit = float(marker.args[0]) if marker else DEFAULT_TIME_LIMIT
        return Notebook(self.transport, timeout=limit)

    @pytest.fixture(scope="session")
    def run_seed(self) -> int:
        """The run's seed, for inputs that several checks share (``rng`` is per check)."""
        return self.seed

    @pytest.fixture
    def rng(self, request: pytest.FixtureRequest) -> np.random.Generator:
        """A generator seeded from the run's seed and the check's name: reproducible,
        and independent of which other checks ran before."""
        return np.random.default_rng([self.seed, zlib.crc32(request.node.nodeid.encode())])

    # -- results ----------------------------------------------------------------------------

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Any:
        # What the comparison helpers noted (integers where floats were expected) is shown
        # with a passing check's result, like record_property("note", ...).
        with collecting() as notes:
            yield
        item.user_properties.extend(("note", text) for text in notes)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.results.append(self._charge(self._result(item, call, report)))

    def _charge(self, result: CheckResult) -> CheckResult:
        """With charge_each_cause = "once", a check that fails for a cause an earlier check
        was already charged for keeps its points and says where the mistake was counted."""
        if not result.cause or self.charge_each_cause != "once" or result.passed:
            return result
        if result.outcome == CheckOutcome.ERROR:
            return result
        first = self._charged.setdefault(result.cause, result.description or result.name)
        if first != (result.description or result.name):
            result.points = result.max_points
            result.counted_under = first
            counted = _(
                'No points lost: the same mistake ({cause}) was already counted under "{first}".'
            ).format(cause=result.cause, first=first)
            result.message = f"{counted}\n{result.message}"
        return result

    def _result(
        self, item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport
    ) -> CheckResult:
        max_points = self._points.get(item.nodeid, 0.0)
        result = CheckResult(
            name=item.name,
            description=_description(item),
            points=max_points if report.passed else 0.0,
            max_points=max_points,
            passed=report.passed,
            hidden=self._hidden(item) and item.name not in self._stand_ins,
            duration=report.duration,
            outcome=CheckOutcome.PASSED if report.passed else CheckOutcome.FAILED,
        )
        if report.skipped:
            result.passed, result.points, result.outcome = False, 0.0, CheckOutcome.FAILED
            result.message = "This check was skipped."
        elif call.excinfo is not None:
            result.message, result.outcome = _explain(call.excinfo)
            result.message = self._once(call.excinfo.value, result.description, result.message)
            result.cause = str(getattr(call.excinfo.value, "cause", None) or "")
        elif report.passed:
            # A passing check may still have something to tell (which convention was met):
            # it says so with pytest's record_property("note", text).
            notes = [str(value) for key, value in report.user_properties if key == "note"]
            result.message = "\n".join(notes)
        return result

    def _once(self, exc: BaseException, description: str, message: str) -> str:
        """The full message the first time it fails a check; later, a short one that says
        where the full one is: for a failure with a ``short`` form, keyed by its cause (or
        its message), and for a message of several lines repeated word for word (one value
        that fails several checks in the same words), shortened to its first line."""
        if isinstance(exc, CheckFailure) and exc.short != message:
            cause: Hashable = ("cause", exc.cause) if exc.cause else message
            short = exc.short
        elif "\n" in message:
            lines = message.split("\n")
            short = lines[0]
            if short.endswith(":"):  # "f(x) raised an exception:" says little without its error
                short = f"{short} {lines[1].strip()}"
            if len(lines) <= 2 and short.endswith(lines[-1].strip()):
                return message  # as short as the reference to it would be
            cause = message
        else:
            return message
        first = self._explained.setdefault(cause, description)
        if first == description:
            return message
        end = "" if short.endswith((".", "?", "!")) else "."
        return f"{short}{end} " + _("The check “{first}” explains it in full.").format(first=first)


def _explain(excinfo: pytest.ExceptionInfo[BaseException]) -> tuple[str, CheckOutcome]:
    """(message, outcome) for a check that raised."""
    exc = excinfo.value
    if isinstance(exc, NotJudged):
        return not_judged_message(exc.reason), CheckOutcome.NOT_JUDGED
    if isinstance(exc, CheckFailure):
        return str(exc), CheckOutcome.FAILED
    if isinstance(exc, AssertionError):
        text = str(exc).strip() or "The check's assertion failed."
        return text, CheckOutcome.FAILED
    return (
        f"The check could not run to the end ({type(exc).__name__}: {exc}). "
        "This is a problem in the check, not necessarily in your code; tell your instructor.",
        CheckOutcome.ERROR,
    )


def _self_check_only(item: pytest.Item) -> bool:
    return item.get_closest_marker("self_check_only") is not None


def not_judged_message(reason: str) -> str:
    """ "Not judged because <reason>", whatever case and full stop the reason came with."""
    text = reason.strip().rstrip(".") or _("another check already failed what it needs")
    # NOT_JUDGED_LEAD in English.
    return _("Not judged because {reason}.").format(reason=text)


def _function_id(item: pytest.Item) -> str:
    return item.nodeid.split("[", 1)[0]


def _description(item: pytest.Item) -> str:
    function: Callable[..., Any] | None = getattr(item, "function", None)
    doc = (function.__doc__ or "").strip().splitlines() if function else []
    text = doc[0].strip() if doc else item.name
    callspec = getattr(item, "callspec", None)
    return f"{text} [{callspec.id}]" if callspec is not None and doc else text
