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
    """The folded <details> of the checks section that contains ``needle``."""
    section = markup.split('<section class="checks">')[1].split("</section>")[0]
    blocks = [b for b in section.split("<details")[1:] if needle in b]
    assert len(blocks) == 1, needle
    return blocks[0].split("</details>")[0]


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
        "relu keeps positive values": ("0 / 2", "Failed"),
        "gradient matches autograd": ("0.5 / 1", "Failed"),
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
    # The passed checks are folded into one line, each listed inside it.
    passed = visible_text(check_block(markup, "2 checks passed"))
    assert "relu returns 0 for negative inputs" in passed
    assert "relu shape only name" in passed  # no description: the name said in words
    assert "relu_shape_only_name" not in markup
    assert "2 of 5 checks failed; 1 could not be checked" in visible_text(markup)


def test_hidden_checks_are_labelled() -> None:
    markup = render_report(graded_result())
    assert ">hidden<" in check_block(markup, "gradient matches autograd")
    assert ">hidden<" not in check_block(markup, "relu keeps positive values")
    passed = check_block(markup, "2 checks passed")
    assert re.search(r"relu shape only name <span class=\"tag\">hidden</span>", passed)


def test_failure_message_is_escaped_and_keeps_its_layout() -> None:
    markup = render_report(graded_result())
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    assert "<script" not in markup.lower()
    # The message's lines after its headline keep their layout in the "what to fix" entry.
    body = re.search(r'<p class="diagnosis">(.*?)</p>', markup, flags=re.S)
    assert body is not None
    assert html.unescape(body.group(1)) == FAIL_MESSAGE.split("\n", 1)[1]
    # Printed once: the check's own fold points to the entry instead of repeating it.
    assert markup.count("expected: [0.0, 0.5, 3.0]") == 1
    assert "What to fix first" in visible_text(check_block(markup, "relu keeps positive values"))
    assert HIDDEN_MESSAGE.split("\n", 1)[0] in visible_text(markup)


def test_grader_error_is_not_blamed_on_the_student() -> None:
    markup = render_report(graded_result())
    block = visible_text(check_block(markup, "relu keeps the dtype"))
    assert "could not be checked (a problem in the grader, not your code)" in block
    assert "Failed" not in block
    assert "check_dtype" not in markup  # the grader's own error is for the course staff


def test_student_text_is_escaped_everywhere() -> None:
    result = graded_result()
    result.submission = '<img src=x onerror="alert(1)">.ipynb'
    result.assignment = XSS
    result.cells[0].source_head = XSS
    result.cells[0].detail = XSS
    result.checks[0].description = XSS
    result.checks[1].message = f"`{XSS}` <img src=x onerror=alert(2)>"
    markup = render_report(result)
    assert "<script" not in markup.lower()
    assert "<img" not in markup
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;.ipynb" in markup
    assert "<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>" in markup


def test_cell_events_are_listed_in_words() -> None:
    markup = render_report(graded_result())
    text = visible_text(markup)
    assert "Your notebook's cells" in text
    for _number, _kind, words in CELL_EVENTS:
        assert f"The cell {words}" in text
    # Without the notebook at hand, a cell is named by its first line.
    assert "The cell that starts with x = np.zeros(3)" in text
    assert "<code>big = torch.zeros(10**12)</code>" in markup
    assert "timed out: timed out after 30 s" in text
    assert "x = np.zeros(3)\nNameError: np" in pre_blocks(markup)[-1]


def test_unknown_cell_kind_is_shown_as_is() -> None:
    result = graded_result()
    result.cells = [CellEvent(2, "mystery", "something odd")]
    assert "The cell mystery: something odd" in visible_text(render_report(result))


def test_footer_shows_mode_seed_time_version_and_duration() -> None:
    result = graded_result()
    result.sandbox, result.notes = "none", ["The sandbox was off (no bwrap): resource limits."]
    text = visible_text(render_report(result))
    assert "sandbox" not in text.lower()  # for the instructor's outputs only
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
    assert "seed" not in text.lower()  # nothing was drawn: no seed to reproduce


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
