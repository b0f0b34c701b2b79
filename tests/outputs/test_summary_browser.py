"""The class summary in Chromium (contracts E): it fits a laptop and a phone, loads nothing,
keeps student text inert, sorts its students table and opens what it folds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from grader.outputs.class_summary import write_summary
from tests.browser import DESKTOP, PHONE
from tests.report_samples import XSS, class_results, student_result

pytestmark = pytest.mark.browser

LONG_NAME = "2022021241_이다온_backpropagation_homework_final_really_final.ipynb"


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    results = class_results(120)
    # Student-supplied text: a file name and a failure message carrying HTML and script.
    results.append(
        student_result("xss", {"B": XSS + '<img src=x onerror="alert(2)">'}, submission=XSS)
    )
    results.append(student_result("long", {"C": "x" * 300}, submission=LONG_NAME))
    folder = tmp_path_factory.mktemp("summary")
    return write_summary(results, folder, assignment_title="ReLU <b>and</b> friends")


def _open(browser: Any, path: Path, viewport: dict[str, int]) -> tuple[Any, list[str], list[str]]:
    page = browser.new_page(viewport=viewport)
    requests: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(path.as_uri(), wait_until="load")
    return page, requests, dialogs


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "390px"])
def test_fits_loads_nothing_and_keeps_student_text_inert(
    browser: Any, summary: Path, viewport: dict[str, int]
) -> None:
    page, requests, dialogs = _open(browser, summary, viewport)
    # Open every folded section too: what they hold must fit as well.
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    assert requests == [summary.as_uri()]  # the page itself, nothing else
    assert dialogs == []
    assert page.evaluate("() => document.scripts.length") == 1  # the sorting script only
    assert page.evaluate("() => document.images.length") == 0  # the <img> stayed text
    assert page.locator("h1").inner_text() == "ReLU <b>and</b> friends"
    page.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "390px"])
def test_histogram_labels_stay_readable(
    browser: Any, summary: Path, viewport: dict[str, int]
) -> None:
    page, _, _ = _open(browser, summary, viewport)
    sizes = page.evaluate(
        "() => [...document.querySelectorAll('svg.histogram text')]"
        ".map(t => t.getBoundingClientRect().height)"
    )
    assert sizes and min(sizes) >= 9  # px on screen, whatever the SVG's scale
    boxes = page.evaluate(
        "() => [...document.querySelectorAll('svg.histogram text.tick[text-anchor=middle]')]"
        ".map(t => { const r = t.getBoundingClientRect(); return [r.left, r.right]; })"
    )
    # The score labels under the bars do not overlap.
    assert all(a[1] <= b[0] + 0.5 for a, b in zip(boxes, boxes[1:], strict=False))
    page.close()


def _column(page: Any, index: int) -> list[str]:
    return page.evaluate(
        "(i) => [...document.querySelectorAll('#submissions tbody tr')]"
        ".map(r => r.cells[i].dataset.key)",
        index,
    )


def test_students_table_sorts(browser: Any, summary: Path) -> None:
    page, _, _ = _open(browser, summary, DESKTOP)
    scores = [float(k) for k in _column(page, 1)]
    assert scores == sorted(scores)  # pre-sorted: lowest first
    page.click("#submissions th:nth-child(1) button")
    names = _column(page, 0)
    assert names != _column(page, 0)[::-1]
    in_order = page.evaluate(
        "(k) => k.every((n, i) => !i || k[i - 1].localeCompare(n) <= 0)", names
    )
    assert in_order and set(names) >= {"<script>alert(1)</script>", LONG_NAME.lower()}
    page.click("#submissions th:nth-child(2) button")  # score: ascending again
    page.click("#submissions th:nth-child(2) button")  # and descending
    scores = [float(k) for k in _column(page, 1)]
    assert scores == sorted(scores, reverse=True)
    sort = page.get_attribute("#submissions th:nth-child(2)", "aria-sort")
    assert sort == "descending"
    page.close()


def test_folded_sections_open(browser: Any, summary: Path) -> None:
    page, _, _ = _open(browser, summary, PHONE)
    folded = page.locator("#all-passed > ul")
    assert not folded.is_visible()
    page.click("#all-passed > summary")
    assert folded.is_visible()
    example = page.locator("#top-mistakes details").first
    assert not example.locator("pre").is_visible()
    example.locator("summary").click()
    assert example.locator("pre").is_visible()
    assert example.locator("a").count() > 1  # every student's report
    page.close()


def test_words_do_not_break_inside(browser: Any, summary: Path) -> None:
    page, _, _ = _open(browser, summary, PHONE)
    # A status badge and a count stay on one line ("ungradabl|e" was the bug).
    heights = page.evaluate(
        "() => [...document.querySelectorAll('.badge, .count-badge')]"
        ".map(e => e.getClientRects().length)"
    )
    assert heights and set(heights) == {1}
    page.close()
