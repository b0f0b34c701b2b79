"""The report's Python-side text goes through ``_`` (gettext), so it can be translated.

grader/checks/_i18n.py (contracts section D) provides the catalogues; until it is there,
``_`` is the identity and the jinja2 templates get null translations. This is the one
place that decides which.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from jinja2 import Environment

__all__ = ["_", "install_translations", "language"]

try:  # the languages module lands on another branch; English until then
    _i18n: Any = importlib.import_module("grader.checks._i18n")
except ImportError:
    _i18n = None


def _(message: str) -> str:
    """The message in the current language (English without catalogues)."""
    gettext: Callable[[str], str] | None = getattr(_i18n, "gettext", None)
    return gettext(message) if gettext else message


def language() -> str:
    """The current language's code, for ``<html lang>``."""
    current: Callable[[], str] | None = getattr(_i18n, "current_language", None)
    return current() if current else "en"


def install_translations(env: Environment) -> None:
    """Give the templates ``_`` and ``{% trans %}`` in the current language."""
    if _i18n is not None and hasattr(_i18n, "translations"):
        translations = _i18n.translations(language())
        env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    else:
        env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
