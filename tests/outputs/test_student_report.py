"""Tests for the student's HTML report."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from grader.grading.results import CellEvent
from grader.outputs.student_report import render_report, write_report
from tests.report_samples import (
    CELL_EVENTS,
    FAIL_MESSAGE,
    HIDDEN_MESSAGE,
    KOREAN_NAME,
    XSS,
    graded_result,
    ungradable_result,
)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible_text(markup: str) -> str:
    """The text a reader sees, entities decoded and whitespace collapsed."""
    parser = _TextExtractor()
    parser.feed(re.sub(r"<style>.*?</style>", "", markup, flags=re.S))
    return " ".join(" ".join(parser.parts).split())


def check_block(markup: str, needle: str) -> str:
    """The <tbody> of the checks table that contains ``needle``."""
    blocks = [b for b in markup.split("<tbody>")[1:] if needle in b]
    assert len(blocks) == 1, needle
    return blocks[0].split("</tbody>")[0]


def pre_blocks(markup: str) -> list[str]:
    return [html.unescape(b) for b in re.findall(r"<pre>(.*?)</pre>", markup, flags=re.S)]


# --- HTML report -------------------------------------------------------------------------------


def test_report_shows_title_score_and_percentage() -> None:
    markup = render_report(graded_result())
    text = visible_text(markup)
    assert KOREAN_NAME in text
    assert "relu" in text
    assert "5.5 / 10" in text
    assert "55%" in text
    assert 'style="width: 55.0%"' in markup
    assert "Graded" in text
    assert re.search(r"<title>[^<]*2022021241_이다온\.ipynb[^<]*relu", markup)


def test_report_lists_every_check_with_points_and_badge() -> None:
    markup = render_report(graded_result())
    expected = {
        "relu returns 0 for negative inputs": ("2 / 2", "Passed"),
        "relu keeps positive values": ("0 / 2", "Failed"),
        "gradient matches autograd": ("0.5 / 1", "Failed"),
        "relu_shape_only_name": ("3 / 3", "Passed"),  # no description: the name is shown
        "relu keeps the dtype": ("0 / 2", "Not checked"),
    }
    for label, (points, badge) in expected.items():
        block = visible_text(check_block(markup, label))
        assert label in block
        assert points in block
        assert badge in block
        assert ".0 /" not in block and "/ 2.0" not in block
    others = {"Passed", "Failed", "Not checked"}
    for label, (_, badge) in expected.items():
        block = visible_text(check_block(markup, label))
        assert not any(other in block for other in others - {badge}), label


def test_hidden_checks_are_labelled() -> None:
    markup = render_report(graded_result())
    assert ">hidden<" in check_block(markup, "gradient matches autograd")
    assert ">hidden<" in check_block(markup, "relu_shape_only_name")
    assert ">hidden<" not in check_block(markup, "relu keeps positive values")


def test_failure_message_is_escaped_and_keeps_its_layout() -> None:
    markup = render_report(graded_result())
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    assert "<script" not in markup.lower()
    # The exact multi-line message, indentation included, sits in a <pre> block.
    assert FAIL_MESSAGE in pre_blocks(markup)
    assert HIDDEN_MESSAGE in pre_blocks(markup)
    # Passed checks have no message block.
    assert "<pre>" not in check_block(markup, "relu returns 0 for negative inputs")


def test_grader_error_is_not_blamed_on_the_student() -> None:
    markup = render_report(graded_result())
    block = visible_text(check_block(markup, "relu keeps the dtype"))
    assert "could not be checked (problem in the grader, not your code)" in block
    assert "Failed" not in block


def test_student_text_is_escaped_everywhere() -> None:
    result = graded_result()
    result.submission = '<img src=x onerror="alert(1)">.ipynb'
    result.assignment = XSS
    result.cells[0].source_head = XSS
    result.cells[0].detail = XSS
    result.checks[0].description = XSS
    markup = render_report(result)
    assert "<script" not in markup.lower()
    assert "<img" not in markup
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;.ipynb" in markup


def test_cell_events_are_listed_in_words() -> None:
    markup = render_report(graded_result())
    text = visible_text(markup)
    assert "Your notebook's cells" in text
    for number, _kind, words in CELL_EVENTS:
        assert f"Cell {number} {words}" in text
    assert "<code>x = np.zeros(3)</code>" in markup
    assert "<code>big = torch.zeros(10**12)</code>" in markup
    assert "timed out after 30 s" in text
    assert "Traceback (most recent call last):\n    x = np.zeros(3)\nNameError: np" in pre_blocks(
        markup
    )


def test_unknown_cell_kind_is_shown_as_is() -> None:
    result = graded_result()
    result.cells = [CellEvent(2, "mystery", "something odd")]
    assert "Cell 2 mystery" in visible_text(render_report(result))


def test_footer_shows_mode_seed_time_version_and_duration() -> None:
    text = visible_text(render_report(graded_result()))
    assert "graded: all checks" in text
    assert "random inputs were drawn with seed 424242; the same seed reproduces this grade" in (
        text.lower()
    )
    assert "2025-11-22T05:40:00+09:00" in text
    assert "0.1.0" in text
    assert "12.3 s" in text

    result = graded_result()
    result.mode = "check"
    text = visible_text(render_report(result))
    assert "self-check: visible checks only" in text
    assert "graded: all checks" not in text


@pytest.mark.parametrize("factory", [graded_result, ungradable_result])
def test_report_is_self_contained(factory: object) -> None:
    assert callable(factory)
    markup = render_report(factory()).lower()
    for forbidden in ("http://", "https://", "<link", 'src="http', "<script", "@import", "url("):
        assert forbidden not in markup
    assert "<style>" in markup
    assert '<meta name="viewport"' in markup


def test_ungradable_report_shows_reason_and_what_to_do() -> None:
    result = ungradable_result()
    text = visible_text(render_report(result))
    assert (
        "nngrade could not read this file as a notebook: the file is not valid JSON, "
        "line 1, column 1. Open it in Jupyter, save it, and hand it in again."
    ) in text
    assert "Could not be graded" in text
    assert "hw1 (1).ipynb" in text


def test_error_report_keeps_a_multi_line_reason() -> None:
    result = ungradable_result()
    result.status = "error"
    result.reason = "Traceback (most recent call last):\n  File 'x.py'\nRuntimeError: boom"
    markup = render_report(result)
    text = visible_text(markup)
    assert "nngrade itself failed while grading this notebook" in text
    assert "not in your work" in text
    assert result.reason in pre_blocks(markup)
    assert "Open it in Jupyter" not in text


def test_write_report_writes_id_html(tmp_path: Path) -> None:
    result = graded_result()
    path = write_report(result, tmp_path / "reports")
    assert path == tmp_path / "reports" / "2022021241-relu.html"
    assert path.read_text(encoding="utf-8") == render_report(result)
