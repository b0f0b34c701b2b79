"""Languages for checks and pages (contracts D): gettext, ngettext, use_language ...

The implementation is ``grader.runner.i18n``, where the runner's own messages can use it too.
"""

from __future__ import annotations

from grader.runner.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    N_,
    current_language,
    gettext,
    ngettext,
    translations,
    use_language,
)

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "N_",
    "current_language",
    "gettext",
    "ngettext",
    "translations",
    "use_language",
]
