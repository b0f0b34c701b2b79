"""The HTML pages' common ground: where the templates are and the jinja2 environment for them."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from grader.outputs.translate import install_translations
from grader.outputs.wording import cell_kind_words, check_label, format_points

__all__ = ["TEMPLATES_DIR", "code_marks", "template_environment"]

_BACKTICKS = re.compile(r"`([^`\n]+)`")


def code_marks(text: str) -> Markup:
    """Messages quote code in backticks (`relu`): shown as code. The text is escaped first,
    so nothing in it becomes markup but the <code> elements made here."""
    return Markup(_BACKTICKS.sub(r"<code>\1</code>", str(escape(text))))


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
        extensions=["jinja2.ext.i18n"],
    )
    install_translations(env)
    env.filters["points"] = format_points
    env.filters["cell_kind"] = cell_kind_words
    env.filters["code_marks"] = code_marks
    env.filters["check_label"] = check_label
    return env
