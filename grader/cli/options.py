"""Options and error handling that the ``nngrade`` commands share."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from grader.checks._i18n import LANGUAGES
from grader.grading.assignment import Assignment, AssignmentError
from grader.grading.engine import GradingOptions
from grader.runner.limits import GiB, KiB, Limits, MiB, parse_size
from grader.runner.pool import KERNEL_STARTS
from grader.runner.sandbox import SANDBOX_MODES

__all__ = [
    "EXIT_USAGE",
    "constraints_option",
    "fail",
    "grading_options",
    "install_option",
    "load_assignment",
    "notebook_timeout_option",
    "options_from",
    "timeout_option",
]

EXIT_USAGE = 2
# The defaults are the dataclasses' own; the options only show them.
_DEFAULT = GradingOptions()
_LIMITS = _DEFAULT.limits

timeout_option = click.option(
    "--timeout",
    default=_DEFAULT.cell_timeout,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds each notebook cell may run before it is stopped.",
)
notebook_timeout_option = click.option(
    "--notebook-timeout",
    default=_DEFAULT.notebook_timeout,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds all of a notebook's cells may run in all; later cells are skipped.",
)
install_option = click.option(
    "--install",
    help="What pip installs to get nngrade, instead of a wheel of this nngrade (which is "
    "carried along): requirements and pip options, e.g. a VCS requirement. A file named "
    "here (a wheel) is copied in too.",
)
constraints_option = click.option(
    "--constraints",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="A pip constraints file to ship instead of the default one, which pins torch.",
)
_seed_option = click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=_DEFAULT.seed,
    help="Seed for the checks' random inputs. Default: a new seed, recorded in the results.",
)


class _Size(click.ParamType):
    name = "SIZE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            return parse_size(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def _size_text(value: int) -> str:
    """A size as it is typed (2G, 256M), for the help to show as the default."""
    for unit, size in (("G", GiB), ("M", MiB), ("K", KiB)):
        if value % size == 0:
            return f"{value // size}{unit}"
    return str(value)


def grading_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that make a ``GradingOptions`` (see ``options_from``), shared by
    ``grade`` and ``check``: timeouts, seed, --sandbox and the per-kernel limits."""
    options = [
        timeout_option,
        notebook_timeout_option,
        _seed_option,
        click.option(
            "--lang",
            type=click.Choice(LANGUAGES),
            default=None,
            help="The language of the checks' messages and the reports. Default: the "
            "assignment's `lang`, else English.",
        ),
        click.option(
            "--sandbox",
            type=click.Choice(SANDBOX_MODES),
            default=_DEFAULT.sandbox,
            show_default=True,
            help="Run each kernel in a bubblewrap sandbox (bwrap), without one (none), or "
            "in one when bwrap works here (auto).",
        ),
        click.option(
            "--kernel-start",
            type=click.Choice(KERNEL_STARTS),
            default=_DEFAULT.kernel_start,
            show_default=True,
            help="How a batch's workers start kernels: forked from a fork server that "
            "imported ipykernel, numpy and the assignment's preload once (fork; needs "
            "bubblewrap and root, else as ahead), each in a fresh box while the previous "
            "submission is graded (ahead), or one at a time when needed (demand).",
        ),
        click.option(
            "--memory",
            type=_Size(),
            default=_size_text(_LIMITS.memory),
            show_default=True,
            help="Memory each kernel may use (heap and arrays), e.g. 512M or 4G.",
        ),
        click.option(
            "--cpu-time",
            type=click.IntRange(min=1),
            default=_LIMITS.cpu_time,
            show_default=True,
            help="CPU seconds each kernel may use in all, all its threads together.",
        ),
        click.option(
            "--max-processes",
            type=click.IntRange(min=8),
            default=_LIMITS.processes,
            show_default=True,
            help="Processes and threads each kernel may run at once.",
        ),
        click.option(
            "--max-file-size",
            type=_Size(),
            default=_size_text(_LIMITS.file_size),
            show_default=True,
            help="Largest file a kernel may write; in the sandbox also the size of its "
            "working folder, /tmp and /dev/shm.",
        ),
        click.option(
            "--max-value-size",
            type=_Size(),
            default=_size_text(_LIMITS.value_size),
            show_default=True,
            help="Largest value a student's function may return to a check.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def options_from(values: dict[str, Any]) -> GradingOptions:
    """The ``GradingOptions`` that ``grading_options`` parsed into ``values``."""
    limits = Limits(
        memory=values["memory"],
        cpu_time=values["cpu_time"],
        processes=values["max_processes"],
        file_size=values["max_file_size"],
        value_size=values["max_value_size"],
    )
    return GradingOptions(
        cell_timeout=values["timeout"],
        notebook_timeout=values["notebook_timeout"],
        seed=values["seed"],
        sandbox=values["sandbox"],
        kernel_start=values["kernel_start"],
        limits=limits,
        lang=values["lang"],
    )


def load_assignment(assignment_dir: Path) -> Assignment:
    try:
        return Assignment.load(assignment_dir)
    except AssignmentError as exc:
        fail(str(exc))


def fail(message: str) -> NoReturn:
    click.echo(f"nngrade: error: {message}", err=True)
    raise SystemExit(EXIT_USAGE)
