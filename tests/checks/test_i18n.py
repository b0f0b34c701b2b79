"""Tests for the message catalogues and the language switch (grader/checks/_i18n.py)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from grader.checks import expect_array, expect_scalar
from grader.checks._i18n import current_language, gettext, ngettext, use_language
from grader.checks.failures import CheckFailure
from grader.runner import i18n

ROOT = Path(__file__).resolve().parents[2]
KO = ROOT / "grader" / "locale" / "ko" / "LC_MESSAGES" / "nngrade.po"
PLACEHOLDER = re.compile(r"\{(\w+)\}|%\((\w+)\)")


def _marked() -> set[str | tuple[str, ...]]:
    """Every message marked in grader/ and templates/, extracted as `make i18n` does."""
    found: set[str | tuple[str, ...]] = set()
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    method_map = [("grader/**.py", "python"), ("templates/**.j2", "jinja2")]
    options = {"templates/**.j2": {"trim_blocks": "true", "lstrip_blocks": "true"}}
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def test_every_marked_message_has_a_korean_translation() -> None:
    with KO.open("rb") as po:
        catalog = read_po(po, locale="ko")
    translated = {(m.id if isinstance(m.id, str) else tuple(m.id)): m for m in catalog if m.id}
    marked = _marked()
    assert len(marked) > 150
    missing = sorted(str(m) for m in marked if m not in translated)
    assert missing == [], "run `make i18n` and translate these"
    fuzzy = sorted(str(k) for k in marked if translated[k].fuzzy)
    assert fuzzy == []
    empty = sorted(str(k) for k in marked if not all(_strings(translated[k].string)))
    assert empty == []


def _strings(string: str | tuple[str, ...]) -> tuple[str, ...]:
    return (string,) if isinstance(string, str) else tuple(string)


def test_translations_keep_their_placeholders() -> None:
    with KO.open("rb") as po:
        catalog = read_po(po, locale="ko")
    for message in catalog:
        if not message.id:
            continue
        ids = _strings(message.id)
        wanted = {p for text in ids for p in PLACEHOLDER.findall(text)}
        for text in _strings(message.string):
            # A singular may leave out {num} ("a dimension"); the Korean form has one plural.
            assert set(PLACEHOLDER.findall(text)) >= wanted - {("num", ""), ("", "num")} or (
                len(ids) > 1 and set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(ids[1]))
            ), message.id


def test_english_is_the_default() -> None:
    assert current_language() == "en"
    assert gettext("Passed") == "Passed"


def test_korean_inside_the_block_only() -> None:
    with use_language("ko"):
        assert current_language() == "ko"
        assert gettext("Passed") == "통과"
        assert ngettext("%(num)d student", "%(num)d students", 3) % {"num": 3} == "학생 3명"
    assert gettext("Passed") == "Passed"


def test_an_unknown_message_stays_in_english() -> None:
    with use_language("ko"):
        assert gettext("A message nobody translated") == "A message nobody translated"


def test_a_language_without_a_catalogue_is_english() -> None:
    with use_language("xx"):
        assert gettext("Passed") == "Passed"


def test_fuzzy_entries_are_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "zz" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "nngrade.po").write_text(
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=utf-8\\n"\n\n'
        '#, fuzzy\nmsgid "Passed"\nmsgstr "Guess"\n\nmsgid "Failed"\nmsgstr "Sure"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        with use_language("zz"):
            assert gettext("Passed") == "Passed"
            assert gettext("Failed") == "Sure"
    finally:
        i18n.translations.cache_clear()


def _message(check: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(CheckFailure) as failure:
        check(*args, **kwargs)  # type: ignore[operator]
    return str(failure.value)


def test_check_messages_in_korean() -> None:
    with use_language("ko"):
        transpose = _message(expect_array, np.zeros((3, 2)), np.ones((2, 3)), what="relu(x)")
        none = _message(expect_scalar, None, 0.5, what="bce(y, t)")
    assert transpose == (
        "relu(x)이(가) 반환한 shape (3, 2)은(는) 기대한 (2, 3)의 전치입니다. "
        "행렬 곱에서 피연산자 순서를 확인하세요."
    )
    assert none == "bce(y, t)의 반환값이 None입니다(기대한 것: 숫자). `return`을 빠뜨리지 않았나요?"
    english = _message(expect_array, np.zeros((3, 2)), np.ones((2, 3)), what="relu(x)")
    assert english.startswith("relu(x) returned shape (3, 2), the transpose")
