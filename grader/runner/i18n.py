"""The language of the messages checks write and of the pages around them (gettext + Babel).

It lives in the runner, the lowest layer that writes messages a student reads (cell events),
so that every layer above can use it; check files and templates reach it as
``grader.checks._i18n``.

English is written in the code and is the default; another language is a Babel catalogue,
``grader/locale/<lang>/LC_MESSAGES/nngrade.po``. The catalogue is read as it is (no compiled
``.mo`` is shipped): the ``.po`` is the one file translators edit, so nothing can fall out of
step with it, and reading it costs a few milliseconds once per process. Fuzzy entries are left
out and a message without a translation stays in English.

The language is a context variable, so the worker that grades one submission (and the page
renderers) say it once around the work: ``with use_language("ko"): ...``.
"""

from __future__ import annotations

import contextvars
import functools
import gettext as _gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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

DEFAULT_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "nngrade"
# The languages with a catalogue, besides English.
LANGUAGES = (DEFAULT_LANGUAGE, *sorted(p.parent.name for p in LOCALE_DIR.glob("*/LC_MESSAGES")))

_language: contextvars.ContextVar[str] = contextvars.ContextVar(
    "nngrade_language", default=DEFAULT_LANGUAGE
)


@functools.cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The translations for ``lang`` (also what jinja2's i18n extension installs); English,
    and a language without a catalogue, get null translations: the English text itself."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if lang == DEFAULT_LANGUAGE or not path.is_file():
        return _gettext.NullTranslations()
    # Babel is imported only when a language other than English is used.
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with path.open("rb") as po:
        catalog = read_po(po, locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)  # a fuzzy entry is a guess: English instead
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def N_(message: str) -> str:  # noqa: N802 - gettext's conventional name
    """Mark ``message`` for the catalogue where it is defined (a table of words) and return
    it as it is: it is translated with ``gettext`` where it is shown."""
    return message


def current_language() -> str:
    """The language messages are written in here and now ("en" unless ``use_language``)."""
    return _language.get()


@contextmanager
def use_language(lang: str | None) -> Iterator[None]:
    """Write messages in ``lang`` inside the block (None or "": English)."""
    token = _language.set(lang or DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _language.reset(token)


def gettext(message: str) -> str:
    """``message`` in the current language, or as written when it has no translation."""
    lang = _language.get()
    if lang == DEFAULT_LANGUAGE:
        return message
    return translations(lang).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, in the current language."""
    return translations(_language.get()).ngettext(singular, plural, n)
