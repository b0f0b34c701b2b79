"""Tests for the class summary page (index.html), read back through an HTML parser."""

from __future__ import annotations

import base64
import io
import re
import statistics
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

from matplotlib.image import imread

from grader.grading.results import CellEvent
from grader.outputs.class_summary import SLOWEST_SHOWN, render_summary, write_summary
from grader.outputs.wording import format_points
from tests.report_samples import (
    KOREAN_NAME,
    XSS,
    class_results,
    graded_result,
    not_graded_result,
    student_result,
)

BAR_COLOUR = (0x2F, 0x5D, 0x8A)  # the accent colour the bars are drawn in
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The visible text, whitespace collapsed."""
        parts = [c if isinstance(c, str) else c.text for c in self.children]
        return " ".join(" ".join(parts).split())

    def find_all(self, tag: str, **attrs: str) -> list[Node]:
        found: list[Node] = []
        for child in self.children:
            if isinstance(child, Node):
                if child.tag == tag and all(child.attrs.get(k) == v for k, v in attrs.items()):
                    found.append(child)
                found += child.find_all(tag, **attrs)
        return found

    def find(self, tag: str, **attrs: str) -> Node:
        found = self.find_all(tag, **attrs)
        assert len(found) == 1, (tag, attrs, len(found))
        return found[0]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        assert tag in [n.tag for n in self.stack], f"</{tag}> closes nothing"
        while self.stack.pop().tag != tag:
            pass

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(markup: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(markup)
    builder.close()
    assert builder.stack == [builder.root], "unclosed elements"
    return builder.root


def section(page: Node, name: str) -> Node:
    return page.find("section", id=name)


def rows(page: Node, name: str) -> list[Node]:
    return section(page, name).find("tbody").find_all("tr")


TRANSPOSE = "dW2 has shape (3, 2), the transpose of the expected (2, 3)"
CLASS = [
    student_result("s1", {"B": TRANSPOSE + "\n  expected (2, 3)", "C": "wrong values"}),
    student_result("s2", {"B": TRANSPOSE + "\n  other detail"}),
    student_result("s3", {"B": "NaN at [0, 1]", "C": "wrong values", "D": "hidden failed"}),
    student_result("s4", {"B": TRANSPOSE}),
    student_result("s5"),
    not_graded_result("bad1", "ungradable", "the file is not valid JSON"),
    not_graded_result("oops", "error", "nngrade failed: RuntimeError: boom\n  File x.py, line 3"),
]


def test_counts_mean_and_median() -> None:
    page = parse(render_summary(CLASS, assignment_title="ReLU"))
    counts = section(page, "counts")
    assert counts.find("dd", **{"data-count": "graded"}).text == "5"
    assert counts.find("dd", **{"data-count": "ungradable"}).text == "1"
    assert counts.find("dd", **{"data-count": "errors"}).text == "1"
    # Scores 6, 8, 2, 8, 10: the ungradable and the failed submissions are not averaged in.
    assert counts.find("dd", **{"data-stat": "mean"}).text == "6.8 / 10"
    assert counts.find("dd", **{"data-stat": "median"}).text == "8 / 10"
    assert counts.find("dd", **{"data-stat": "full"}).text == "1 of 5"
    assert page.find("h1").text == "ReLU"


def test_checks_most_students_fail_come_first() -> None:
    page = parse(render_summary(CLASS, assignment_title="ReLU"))
    table = rows(page, "checks")
    assert [r.attrs["data-check"] for r in table] == ["B", "C", "D", "A"]
    assert [r.find("span", **{"class": "rate"}).text for r in table] == [
        "1 / 5",
        "3 / 5",
        "4 / 5",
        "5 / 5",
    ]
    assert "hidden" in table[2].text and "hidden" not in table[0].text


def test_equal_pass_rates_keep_the_assignment_order() -> None:
    results = [student_result("s1", {"C": "c"}), student_result("s2", {"A": "a"})]
    page = parse(render_summary(results, assignment_title="ReLU"))
    assert [r.attrs["data-check"] for r in rows(page, "checks")] == ["A", "C", "B", "D"]


def test_most_common_failure_message_first_line_with_count() -> None:
    page = parse(render_summary(CLASS, assignment_title="ReLU"))
    by_check = {
        r.attrs["data-check"]: r.find("td", **{"class": "message"}) for r in rows(page, "checks")
    }
    # B failed for 4: three with the transpose message (different second lines), one NaN.
    assert by_check["B"].find("code").text == TRANSPOSE
    assert by_check["B"].find("span", **{"class": "count"}).text == "3 students of 4 who failed"
    assert by_check["C"].find("code").text == "wrong values"
    assert by_check["C"].find("span", **{"class": "count"}).text == "2 students"
    assert by_check["D"].find("span", **{"class": "count"}).text == "1 student"
    assert by_check["A"].find_all("code") == []
    assert by_check["A"].text == "everyone passed"


def test_a_check_that_crashed_is_not_counted_as_failures() -> None:
    result = graded_result()  # relu_dtype crashed on the grader's side
    page = parse(render_summary([result], assignment_title="ReLU"))
    row = next(r for r in rows(page, "checks") if r.attrs["data-check"] == "relu_dtype")
    assert row.find_all("code") == []
    assert "could not be checked for 1 submission" in row.text
    assert "a problem in the check" in row.text


def test_ungradable_and_failed_submissions_are_listed_with_reasons() -> None:
    page = parse(render_summary(CLASS, assignment_title="ReLU"))
    table = {r.attrs["data-id"]: r for r in rows(page, "not-graded")}
    assert set(table) == {"bad1", "oops"}
    assert table["bad1"].find("td", **{"class": "reason"}).text == "the file is not valid JSON"
    assert "ungradable" in table["bad1"].text
    # A multi-line reason (a traceback) shows its first line and keeps the rest in <pre>.
    oops = table["oops"]
    assert oops.find("summary").text == "nngrade failed: RuntimeError: boom"
    assert oops.find("pre").text == "nngrade failed: RuntimeError: boom File x.py, line 3"
    assert "nngrade error" in oops.text


def test_every_submission_links_to_its_report() -> None:
    results = [*CLASS, student_result("2022021241_이다온", submission=KOREAN_NAME)]
    page = parse(render_summary(results, assignment_title="ReLU"))
    table = rows(page, "submissions")
    assert len(table) == len(results)
    for row in table:
        href = row.find("a").attrs["href"]
        assert not re.match(r"[a-z]+:|/", href), href  # relative
        assert unquote(href) == f"reports/{row.attrs['data-id']}.html"
    korean = next(r for r in table if r.attrs["data-id"] == "2022021241_이다온")
    assert korean.find("a").text == KOREAN_NAME
    assert "10 / 10" in korean.find("td", **{"class": "num score"}).text
    s1 = next(r for r in table if r.attrs["data-id"] == "s1")
    assert s1.find("td", **{"class": "failed"}).text == "B, C"


def test_report_links_override_the_default_and_can_leave_one_out() -> None:
    links = {"s1": "elsewhere/s1.html"}
    page = parse(render_summary(CLASS[:2], assignment_title="ReLU", report_links=links))
    table = {r.attrs["data-id"]: r for r in rows(page, "submissions")}
    assert table["s1"].find("a").attrs["href"] == "elsewhere/s1.html"
    assert table["s2"].find_all("a") == []
    assert "s2.ipynb" in table["s2"].text


def test_student_text_is_escaped() -> None:
    results = [
        student_result("s1", {"B": XSS + "\nmore"}, submission=f"{XSS}.ipynb"),
        not_graded_result("bad", "ungradable", XSS),
    ]
    markup = render_summary(results, assignment_title=XSS)
    assert "<script" not in markup.lower()
    page = parse(markup)
    message = next(r for r in rows(page, "checks") if r.attrs["data-check"] == "B")
    assert message.find("code").text == XSS
    assert rows(page, "not-graded")[0].find("td", **{"class": "reason"}).text == XSS
    assert page.find("h1").text == XSS
    assert any(a.text == f"{XSS}.ipynb" for a in page.find_all("a"))


def _histogram(page: Node) -> Node:
    return section(page, "scores").find("img", **{"class": "histogram"})


def test_histogram_is_an_embedded_png_of_the_scores() -> None:
    page = parse(render_summary(CLASS, assignment_title="ReLU"))
    img = _histogram(page)
    prefix = "data:image/png;base64,"
    assert img.attrs["src"].startswith(prefix)
    png = base64.b64decode(img.attrs["src"][len(prefix) :], validate=True)
    pixels = imread(io.BytesIO(png), format="png")
    assert pixels.shape[0] > 150 and pixels.shape[1] > 300
    # A real plot, not a blank image: text and axes in many shades, and the bars' colour.
    colours = {tuple(round(float(c) * 255) for c in p[:3]) for p in pixels.reshape(-1, 4)}
    assert len(colours) > 20
    assert BAR_COLOUR in colours
    # The bars' counts, also given to readers who cannot see the image.
    assert img.attrs["alt"].endswith("per score: 2: 1; 6: 1; 8: 2; 10: 1")


def test_scores_out_of_different_maxima_are_shown_in_percent() -> None:
    other = student_result("s9")
    other.max_score, other.score = 20.0, 5.0
    page = parse(render_summary([student_result("s1"), other], assignment_title="ReLU"))
    assert section(page, "counts").find("dd", **{"data-stat": "mean"}).text == "62.5%"
    assert "25–30%: 1" in _histogram(page).attrs["alt"]


def test_page_is_self_contained() -> None:
    markup = render_summary(CLASS, assignment_title="ReLU")
    page = parse(markup)
    assert page.find_all("script") == [] and page.find_all("link") == []
    sources = [n.attrs.get("src", "") for n in page.find_all("img")]
    assert sources and all(s.startswith("data:") for s in sources)
    assert not re.search(r"url\(|@import|https?://", markup)


def test_no_results() -> None:
    page = parse(render_summary([], assignment_title="ReLU"))
    assert "No submissions were found" in section(page, "scores").text
    assert page.find_all("img") == []
    assert page.find_all("table") == []
    assert section(page, "counts").find("dd", **{"data-count": "graded"}).text == "0"


def test_all_ungradable() -> None:
    results = [not_graded_result(f"bad{n}", "ungradable", f"reason {n}") for n in range(3)]
    page = parse(render_summary(results, assignment_title="ReLU"))
    assert "No submission could be graded" in section(page, "scores").text
    assert page.find_all("img") == []
    assert page.find_all("section", id="checks") == []
    assert [r.attrs["data-id"] for r in rows(page, "not-graded")] == ["bad0", "bad1", "bad2"]
    assert section(page, "counts").find("dd", **{"data-count": "ungradable"}).text == "3"


def test_single_submission() -> None:
    page = parse(render_summary([student_result("only", {"C": "x"})], assignment_title="ReLU"))
    counts = section(page, "counts")
    assert counts.find("dd", **{"data-stat": "mean"}).text == "8 / 10"
    assert counts.find("dd", **{"data-stat": "median"}).text == "8 / 10"
    assert _histogram(page).attrs["alt"].endswith("per score: 8: 1")
    assert len(rows(page, "submissions")) == 1


def test_slowest_submissions_come_first() -> None:
    results = [student_result(f"s{n:02d}", duration=float((n * 7) % 15)) for n in range(15)]
    page = parse(render_summary(results, assignment_title="ReLU"))
    table = rows(page, "slowest")
    assert len(table) == SLOWEST_SHOWN
    times = [float(r.find("td", **{"class": "num"}).text.removesuffix(" s")) for r in table]
    assert times == sorted((r.duration for r in results), reverse=True)[:SLOWEST_SHOWN]


def test_cell_problems_count_submissions_once_per_kind() -> None:
    first, second = student_result("s1"), student_result("s2")
    first.cells = [CellEvent(2, "timeout", "timed out"), CellEvent(4, "timeout", "timed out")]
    second.cells = [CellEvent(3, "timeout", "timed out"), CellEvent(5, "error", "NameError")]
    page = parse(render_summary([first, second], assignment_title="ReLU"))
    items = [li.text for li in section(page, "cells").find_all("li")]
    assert items == ["1 submission: a cell raised an error", "2 submissions: a cell timed out"]


def test_write_summary_writes_index_html(tmp_path: Path) -> None:
    path = write_summary(CLASS, tmp_path)
    assert path == tmp_path / "index.html"
    # The title defaults to the assignment the results record.
    assert path.read_text(encoding="utf-8") == render_summary(CLASS, assignment_title="relu")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html"]  # no temp file left


def test_three_hundred_submissions_render_quickly() -> None:
    results = class_results(300)
    render_summary(results, assignment_title="ReLU")  # warm-up: matplotlib's import, templates
    started = time.perf_counter()
    markup = render_summary(results, assignment_title="ReLU")
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"{elapsed:.2f} s"
    page = parse(markup)
    assert len(rows(page, "submissions")) == 300
    graded = [r.score for r in results if r.status == "graded"]
    mean = section(page, "counts").find("dd", **{"data-stat": "mean"}).text
    assert mean == f"{format_points(statistics.fmean(graded))} / 10"
