"""Student reports of real graded examples, in Chromium at laptop and phone width.

Every assignment's examples/ notebooks are graded once (per module), plus a notebook whose
error messages and outputs carry HTML; each report is opened from a file:// URL.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest

from grader.batch.grade import grade_into
from grader.grading.assignment import Assignment
from grader.grading.engine import GradingOptions
from grader.grading.results import SubmissionResult
from grader.outputs.student_report import write_report
from grader.outputs.written import is_written
from tests.browser import DESKTOP, PHONE
from tests.conftest import ASSIGNMENTS, ROOT, SEED, TORCH_CELL_TIMEOUT

pytestmark = [pytest.mark.kernel, pytest.mark.browser]

EXAMPLES = ROOT / "examples"
NAMES = ["relu", "backprop", "bce", "torch_mlp", "layers"]
REPORTS = [
    f"{name}/{path.stem}" for name in NAMES for path in sorted((EXAMPLES / name).glob("*.ipynb"))
]
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}
# What the student must never read: the grader's files, IPython's temporary files, test ids.
INTERNALS = re.compile(r"grader/|_kernel|nngrade_\w+\.py|\b\d{6,}\.py\b|In\[\d+\]|test_\w+\[")
ATTACK = "<script>window.__attacked = 1</script><img src=x onerror=window.__attacked=2>"


def hostile_notebook(folder: Path) -> Path:
    """A relu notebook whose error message and a cell's traceback carry HTML."""
    cells = [
        "import numpy as np",
        f"def relu(x):\n    raise ValueError({ATTACK!r})",
        f"raise RuntimeError({ATTACK!r})",
    ]
    notebook = {
        "cells": [
            {"cell_type": "code", "execution_count": n, "metadata": {}, "outputs": [], "source": s}
            for n, s in enumerate(cells, start=1)
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = folder / "hostile.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    return path


class Graded:
    """Report path and result by "assignment/stem"; each assignment's examples are graded
    the first time one of its reports is asked for (once per module)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.found: dict[str, tuple[Path, SubmissionResult]] = {}

    def __getitem__(self, key: str) -> tuple[Path, SubmissionResult]:
        name = key.split("/")[0]
        if key not in self.found:
            self._grade(name)
        return self.found[key]

    def _grade(self, name: str) -> None:
        sources = [EXAMPLES / name]
        if name == "relu":
            sources.append(hostile_notebook(self.folder))
        timeout = TORCH_CELL_TIMEOUT if name in ("bce", "torch_mlp") else 10.0
        options = GradingOptions(cell_timeout=timeout, seed=SEED)
        with tempfile.TemporaryDirectory(prefix="nngrade-test-") as out:
            run = grade_into(Assignment.load(ASSIGNMENTS / name), sources, Path(out), options)
        for result in run.results:
            key = f"{name}/{Path(result.path).stem}"
            self.found[key] = (write_report(result, self.folder / name), result)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    return Graded(tmp_path_factory.mktemp("reports"))


def open_report(page: Any, path: Path, viewport: dict[str, int]) -> list[str]:
    """Load a report; return the URLs of every request beyond the page itself."""
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.set_viewport_size(viewport)
    page.goto(path.as_uri())
    return [url for url in requests if url != path.as_uri()]


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("key", REPORTS)
def test_report_fits_and_leads_with_what_to_fix(
    page: Any, graded: Graded, key: str, viewport: str
) -> None:
    path, result = graded[key]
    size = VIEWPORTS[viewport]
    assert open_report(page, path, size) == []  # nothing fetched: fonts, images, scripts
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= size["width"], f"{key} scrolls sideways at {viewport}: {width}px"
    # Written answers (marked by hand, not yet here) have their own section.
    failures = [
        c for c in result.checks if not c.passed and c.outcome != "error" and not is_written(c.name)
    ]
    box = page.locator("#fix-first")
    if failures:
        top = box.bounding_box()
        assert top is not None and top["y"] + 60 < size["height"], "not visible without scroll"
        assert page.locator("#fix-first summary").first.is_visible()
    else:
        assert box.count() == 0
    text = page.evaluate("document.body.innerText")
    markup = page.content()
    assert not INTERNALS.search(text), INTERNALS.search(text)
    for check in result.checks:
        if "[" in check.name:  # a test id; a plain function name may be a word too
            assert check.name not in markup
    assert "sandbox" not in text.lower()
    # Words wrap between words: nothing is set to break inside one.
    broken = page.evaluate(
        """() => [...document.querySelectorAll('main *')].filter(e => {
            const s = getComputedStyle(e);
            return e.tagName !== 'PRE' && e.tagName !== 'CODE' && e.closest('pre') === null
                && (s.wordBreak === 'break-all' || s.overflowWrap === 'anywhere');
        }).map(e => e.tagName + '.' + e.className)"""
    )
    assert broken == []


def test_folded_sections_open_on_click(page: Any, graded: Graded) -> None:
    path, _ = graded["backprop/seed_as_handed_in"]
    open_report(page, path, PHONE)
    first = page.locator("details.check:not([open])").first.get_attribute("id")
    folded = page.locator(f"#{first}")  # by id: once open it no longer matches :not([open])
    body = folded.locator(".check-body")
    assert not body.is_visible()
    folded.locator("summary").click()
    assert folded.evaluate("e => e.open")
    assert body.is_visible()
    passed = page.locator("details.passed-all")
    if passed.count():
        passed.locator("summary").click()
        assert passed.locator("ul.passed-list").is_visible()


def test_student_html_stays_inert(page: Any, graded: Graded) -> None:
    path, result = graded["relu/hostile"]
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    assert open_report(page, path, DESKTOP) == []  # the <img src=x> was never requested
    assert page.evaluate("window.__attacked") is None
    assert page.locator("script, img").count() == 0
    assert dialogs == []
    page.locator("details").evaluate_all("ds => ds.forEach(d => d.open = true)")
    text = page.evaluate("document.body.innerText")
    assert "<script>window.__attacked = 1</script>" in text  # shown as text, not run
    # The cell's event knows its line (CellEvent.line), and the report highlights it.
    assert [e.line for e in result.cells if e.kind == "error"] == [1]
    assert "raise RuntimeError" in page.locator("ol.cells .hl").first.inner_text()


def test_skipped_lines_are_numbered_in_their_cell(graded: Graded) -> None:
    _, result = graded["relu/colab"]
    skipped = {(e.cell, e.line) for e in result.cells if e.kind == "skipped"}
    assert skipped and all(line >= 1 for _, line in skipped)


def test_printing_opens_every_fold(page: Any, graded: Graded) -> None:
    path, _ = graded["backprop/relu_derivative"]
    open_report(page, path, DESKTOP)
    folded = page.locator("details:not([open]) > :not(summary)")
    assert folded.count() > 0 and not folded.first.is_visible()
    page.emulate_media(media="print")  # paper cannot be clicked
    assert all(folded.nth(n).is_visible() for n in range(folded.count()))
