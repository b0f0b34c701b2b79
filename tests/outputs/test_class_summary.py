"""Tests for the class summary page (index.html), read back through an HTML parser."""

from __future__ import annotations

import re
import statistics
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

from grader.grading.results import CellEvent
from grader.outputs.class_summary import TOP_MISTAKES, render_summary, write_summary
from grader.outputs.pages import breakable
from grader.outputs.wording import format_points
from tests.report_samples import (
    KOREAN_NAME,
    XSS,
    class_results,
    graded_result,
    not_graded_result,
    student_result,
)

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
        if tag == "wbr":  # a place a line may break, not text: "s2.<wbr>ipynb" reads s2.ipynb
            return
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        assert tag in [n.tag for n in self.stack], f"</{tag}> closes nothing"
        while self.stack.pop().tag != tag:
            pass

    def handle_data(self, data: str) -> None:
        children = self.stack[-1].children
        if children and isinstance(children[-1], str):  # text either side of a <wbr>
            children[-1] += data
        else:
            children.append(data)


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


def checks(page: Node) -> list[Node]:
    """The checks that someone failed, in the order shown."""
    listing = section(page, "checks").find_all("ul", **{"class": "checks"})[0]
    return [li for li in listing.find_all("li") if "data-check" in li.attrs]


def test_checks_most_students_fail_come_first() -> None:
    page = parse(render_summary(CLASS, assignment_title="ReLU"))
    shown = checks(page)
    assert [r.attrs["data-check"] for r in shown] == ["B", "C", "D"]
    assert [r.find("span", **{"class": "rate"}).text for r in shown] == [
        "1 of 5 passed 20%",
        "3 of 5 passed 60%",
        "4 of 5 passed 80%",
    ]
    assert "hidden" in shown[2].find_all("summary")[0].text and "hidden" not in shown[0].text


def test_checks_everyone_passed_are_folded_away() -> None:
    page = parse(render_summary(CLASS, assignment_title="ReLU"))
    folded = section(page, "checks").find("details", id="all-passed")
    assert folded.find("summary").text == "1 check that everyone passed"
    assert [li.attrs["data-check"] for li in folded.find_all("li")] == ["A"]
    assert "open" not in folded.attrs


def test_equal_pass_rates_keep_the_assignment_order() -> None:
    results = [student_result("s1", {"C": "c"}), student_result("s2", {"A": "a"})]
    page = parse(render_summary(results, assignment_title="ReLU"))
    assert [r.attrs["data-check"] for r in checks(page)] == ["A", "C"]


def mistakes_of(node: Node) -> list[tuple[str, str, list[str]]]:
    """(count, diagnosis, students' report links) of each mistake under ``node``."""
    return [
        (
            m.find("strong").text,
            m.find("p", **{"class": "pattern"}).text,
            [a.attrs["href"] for a in m.find("span", **{"class": "students"}).find_all("a")],
        )
        for m in node.find_all("div", **{"class": "mistake"})
    ]


def test_failures_are_grouped_by_diagnosis_with_every_students_link() -> None:
    page = parse(render_summary(CLASS, assignment_title="ReLU"))
    by_check = {r.attrs["data-check"]: r for r in checks(page)}
    # B failed for 4: three with the transpose message (different details), one NaN.
    transpose = "dW2 has shape (…), the transpose of the expected (…)"
    assert mistakes_of(by_check["B"]) == [
        ("3 students", transpose, ["reports/s1.html", "reports/s2.html", "reports/s4.html"]),
        ("1 student", "NaN at […]", ["reports/s3.html"]),
    ]
    # One student's message stands as the example, as it was written for them.
    example = by_check["B"].find_all("pre", **{"class": "example"})[0].text
    assert example == " ".join((TRANSPOSE + "\n  expected (2, 3)").split())
    assert mistakes_of(by_check["C"]) == [
        ("2 students", "wrong values", ["reports/s1.html", "reports/s3.html"])
    ]


def test_the_most_common_mistakes_come_first() -> None:
    results = class_results(60)
    page = parse(render_summary(results, assignment_title="ReLU"))
    top = mistakes_of(section(page, "top-mistakes"))
    counts = [int(count.split()[0]) for count, _, _ in top]
    assert counts == sorted(counts, reverse=True) and len(top) <= TOP_MISTAKES
    # d_relu_at_zero is failed by most: every student who failed it is linked.
    failed = [
        r
        for r in results
        if r.status == "graded"
        and any(c.name == "d_relu_at_zero" and not c.passed for c in r.checks)
    ]
    assert top[0][0] == f"{len(failed)} students"
    assert top[0][2] == [f"reports/{r.id}.html" for r in failed]


def test_a_check_that_crashed_is_not_counted_as_failures() -> None:
    result = graded_result()  # relu_dtype crashed on the grader's side
    page = parse(render_summary([result], assignment_title="ReLU"))
    row = next(r for r in checks(page) if r.attrs["data-check"] == "relu_dtype")
    assert mistakes_of(row) == []
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


def test_every_submission_links_to_its_report_lowest_score_first() -> None:
    results = [*CLASS, student_result("2022021241_이다온", submission=KOREAN_NAME)]
    page = parse(render_summary(results, assignment_title="ReLU"))
    table = rows(page, "submissions")
    assert len(table) == len(results)
    for row in table:
        href = row.find("a").attrs["href"]
        assert not re.match(r"[a-z]+:|/", href), href  # relative
        assert unquote(href) == f"reports/{row.attrs['data-id']}.html"
    # Not graded first (no score), then by score: s3 2, s1 6, s2 and s4 8, s5 and the 10s.
    order = [r.attrs["data-id"] for r in table]
    assert order == ["bad1", "oops", "s3", "s1", "s2", "s4", "2022021241_이다온", "s5"]
    keys = [float(r.find("td", **{"class": "num score"}).attrs["data-key"]) for r in table]
    assert keys == sorted(keys)
    korean = next(r for r in table if r.attrs["data-id"] == "2022021241_이다온")
    assert korean.find("a").text == KOREAN_NAME
    assert "10 / 10" in korean.find("td", **{"class": "num score"}).text
    s1 = next(r for r in table if r.attrs["data-id"] == "s1")
    assert s1.find("td", **{"class": "failed"}).text == "B, C"


def test_links_to_the_batch_files() -> None:
    page = parse(render_summary(CLASS, assignment_title="ReLU"))
    links = [a.attrs["href"] for a in page.find("nav", **{"class": "files"}).find_all("a")]
    assert links == ["grades.csv", "results.json", "junit.xml", "gradescope/"]


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
    assert "<script>alert" not in markup.lower()
    page = parse(markup)
    mistake = next(r for r in checks(page) if r.attrs["data-check"] == "B")
    assert mistake.find("pre", **{"class": "example"}).text == XSS + " more"
    assert rows(page, "not-graded")[0].find("td", **{"class": "reason"}).text == XSS
    assert page.find("h1").text == XSS
    assert any(a.text == f"{XSS}.ipynb" for a in page.find_all("a"))


def _histogram(page: Node) -> Node:
    return section(page, "scores").find("svg", **{"class": "histogram"})


def test_histogram_is_inline_svg_fitted_to_the_scores() -> None:
    page = parse(render_summary(CLASS, assignment_title="ReLU"))
    svg = _histogram(page)
    # Scores 2, 6, 8, 8, 10 out of 10: one bar per whole point from 2 to 10.
    bars = svg.find_all("rect", **{"class": "bar"})
    assert [b.find("title").text for b in bars] == [
        f"{k}: {n}" for k, n in zip(range(2, 11), [1, 0, 0, 0, 1, 0, 2, 0, 1], strict=True)
    ]
    heights = [float(b.attrs["height"]) for b in bars]
    assert heights[6] == max(heights) and heights[1] == 0
    assert svg.attrs["aria-label"].endswith("per score: 2: 1; 6: 1; 8: 2; 10: 1")
    # The key is text under the plot, not a legend over the bars.
    assert "mean 6.8 / 10" in section(page, "scores").find("p").text


def test_scores_out_of_different_maxima_are_shown_in_percent() -> None:
    other = student_result("s9")
    other.max_score, other.score = 20.0, 5.0
    page = parse(render_summary([student_result("s1"), other], assignment_title="ReLU"))
    assert section(page, "counts").find("dd", **{"data-stat": "mean"}).text == "62.5%"
    assert "25–30%: 1" in _histogram(page).attrs["aria-label"]


def test_page_is_self_contained() -> None:
    markup = render_summary(CLASS, assignment_title="ReLU")
    page = parse(markup)
    # One inline script (sorting), nothing loaded from anywhere.
    assert [s.attrs for s in page.find_all("script")] == [{}]
    assert page.find_all("link") == [] and page.find_all("img") == []
    assert not re.search(r"url\(|@import|https?://|fetch\(|XMLHttpRequest", markup)


def test_no_results() -> None:
    page = parse(render_summary([], assignment_title="ReLU"))
    assert "No submissions were found" in section(page, "scores").text
    assert page.find_all("svg") == []
    assert page.find_all("table") == []
    assert section(page, "counts").find("dd", **{"data-count": "graded"}).text == "0"


def test_all_ungradable() -> None:
    results = [not_graded_result(f"bad{n}", "ungradable", f"reason {n}") for n in range(3)]
    page = parse(render_summary(results, assignment_title="ReLU"))
    assert "No submission could be graded" in section(page, "scores").text
    assert page.find_all("svg") == []
    assert page.find_all("section", id="checks") == []
    assert [r.attrs["data-id"] for r in rows(page, "not-graded")] == ["bad0", "bad1", "bad2"]
    assert section(page, "counts").find("dd", **{"data-count": "ungradable"}).text == "3"


def test_single_submission() -> None:
    page = parse(render_summary([student_result("only", {"C": "x"})], assignment_title="ReLU"))
    counts = section(page, "counts")
    assert counts.find("dd", **{"data-stat": "mean"}).text == "8 / 10"
    assert counts.find("dd", **{"data-stat": "median"}).text == "8 / 10"
    assert _histogram(page).attrs["aria-label"].endswith("per score: 8: 1")
    assert len(rows(page, "submissions")) == 1


def test_cell_problems_name_the_students() -> None:
    first, second = student_result("s1"), student_result("s2")
    first.cells = [CellEvent(2, "timeout", "timed out"), CellEvent(4, "timeout", "timed out")]
    second.cells = [CellEvent(3, "timeout", "timed out"), CellEvent(5, "error", "NameError")]
    page = parse(render_summary([first, second], assignment_title="ReLU"))
    items = section(page, "cells").find_all("li")
    assert [li.children[0].strip() for li in items] == [
        "1 submission: a cell raised an error",
        "2 submissions: a cell timed out",
    ]
    assert [[a.text for a in li.find_all("a")] for li in items] == [
        ["s2.ipynb"],
        ["s1.ipynb", "s2.ipynb"],
    ]
    assert [a.attrs["href"] for a in items[1].find_all("a")] == [
        "reports/s1.html",
        "reports/s2.html",
    ]


def test_write_summary_writes_index_html(tmp_path: Path) -> None:
    path = write_summary(CLASS, tmp_path)
    assert path == tmp_path / "index.html"
    # The title defaults to the assignment the results record.
    assert path.read_text(encoding="utf-8") == render_summary(CLASS, assignment_title="relu")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html"]  # no temp file left


def test_korean_summary() -> None:
    results = [student_result("s1", {"B": TRANSPOSE}), student_result("s2")]
    for result in results:
        result.lang = "ko"
    page = parse(render_summary(results, assignment_title="ReLU"))
    assert page.find("html").attrs["lang"] == "ko"
    assert section(page, "top-mistakes").find("h2").text == "가장 흔한 실수"
    assert "학생 1명" in section(page, "top-mistakes").text
    # Asked for in English, it is in English whatever the results say.
    english = parse(render_summary(results, assignment_title="ReLU", lang="en"))
    assert section(english, "top-mistakes").find("h2").text == "Most common mistakes"


def test_five_hundred_submissions_render_quickly() -> None:
    results = class_results(500)
    render_summary(results, assignment_title="ReLU")  # warm-up: templates
    started = time.perf_counter()
    markup = render_summary(results, assignment_title="ReLU")
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"{elapsed:.2f} s"
    page = parse(markup)
    assert len(rows(page, "submissions")) == 500
    graded = [r.score for r in results if r.status == "graded"]
    mean = section(page, "counts").find("dd", **{"data-stat": "mean"}).text
    assert mean == f"{format_points(statistics.fmean(graded))} / 10"


def test_names_break_at_their_joins_only() -> None:
    # Escaped first: a break opportunity never opens a way for markup.
    assert str(breakable("test_net[W3] <b>x.ipynb")) == (
        "test_<wbr>net<wbr>[W3] &lt;b&gt;x.<wbr>ipynb"
    )
