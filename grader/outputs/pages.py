"""The HTML pages' common ground: where the templates are and the jinja2 environment for them."""

from __future__ import annotations

import functools
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from grader.outputs.wording import cell_kind_words, format_points
from grader.outputs.written import is_written, written_distribution

__all__ = ["TEMPLATES_DIR", "template_environment"]


def _templates_dir() -> Path:
    # The wheel carries the top-level templates/ as grader/templates/ (pyproject's
    # package-dir); a checkout, editable or not, reads them where they are edited.
    package = Path(__file__).resolve().parent.parent
    installed = package / "templates"
    return installed if installed.is_dir() else package.parent / "templates"


TEMPLATES_DIR = _templates_dir()


@functools.lru_cache(maxsize=1)
def template_environment() -> Environment:
    """The jinja2 environment for every HTML page nngrade writes (reports, the class summary)."""
    # Built once: jinja2 compiles and caches templates per Environment.
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # student text (file names, messages, tracebacks) may contain HTML
        undefined=StrictUndefined,  # a typo in the template fails loudly instead of rendering ""
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["points"] = format_points
    env.filters["cell_kind"] = cell_kind_words
    # For the written answers' includes (_answers.html.j2, _written_summary.html.j2).
    env.tests["written"] = is_written
    env.globals["written_distribution"] = written_distribution
    return env
