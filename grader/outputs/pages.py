"""The HTML pages' common ground: where the templates are and the jinja2 environment for them."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from grader.checks import _i18n
from grader.outputs.wording import cell_kind_words, check_label, format_points
from grader.outputs.written import is_written, written_distribution

__all__ = ["TEMPLATES_DIR", "breakable", "code_marks", "template_environment"]

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
    # Fixed text is written {{ _("...") }}: in the language of the page being rendered
    # (``_i18n.use_language`` around the render), English when it has no translation.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _i18n.gettext, _i18n.ngettext, newstyle=True
    )
    env.filters["points"] = format_points
    env.filters["breakable"] = breakable
    env.filters["cell_kind"] = cell_kind_words
    env.filters["code_marks"] = code_marks
    env.filters["check_label"] = check_label
    # For the written answers' includes (_answers.html.j2, _written_summary.html.j2).
    env.tests["written"] = is_written
    env.globals["written_distribution"] = written_distribution
    return env


_BREAK_AFTER = re.compile(r"([_./-])")


def breakable(text: object) -> Markup:
    """``text`` escaped, with a line-break opportunity after each _ . / and - and before [:
    identifiers and file names wrap at their joins on a phone, not mid-word or not at all."""
    return Markup(_BREAK_AFTER.sub(r"\1<wbr>", str(escape(text))).replace("[", "<wbr>["))
