"""Marking through the real app in Chromium: ``nngrade mark`` started as a server in a
subprocess, driven by Playwright (contracts E)."""

from __future__ import annotations

import json
import os
import signal
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from grader.batch.gradebook import Gradebook
from tests.marking.support import ANSWERS, grade_class, marking_server, write_class

pytestmark = pytest.mark.browser
Q = "relu_zero"


@pytest.fixture
def out(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    grade_class(write_class(tmp_path / "class", ANSWERS), out)
    return out


def stored(out: Path) -> dict[str, list[int]]:
    with Gradebook(out / "gradebook.sqlite") as book:
        return {s: sorted(m["item"]) for s, m in book.marks.applied(Q).items()}


def item_ids(out: Path) -> list[int]:
    with Gradebook(out / "gradebook.sqlite") as book:
        return [i.id for i in book.marks.items(Q)]


def open_app(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#student-label")).to_contain_text("alice")


def press_and_wait(page: Page, key: str) -> None:
    """Press a key that saves, and wait for the server's acknowledgement."""
    with page.expect_response(lambda r: r.url.endswith("/api/mark") and r.ok):
        page.keyboard.press(key)


def test_three_students_marked_with_the_keyboard_are_there_after_a_reload(
    out: Path, page: Page
) -> None:
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    with marking_server(out) as (url, _):
        open_app(page, url)
        full, none = item_ids(out)
        press_and_wait(page, "1")  # alice: item 1
        page.keyboard.press("j")
        expect(page.locator("#student-label")).to_contain_text("bob")
        press_and_wait(page, "2")  # bob: item 2
        page.keyboard.press("ArrowDown")
        expect(page.locator("#student-label")).to_contain_text("carol")
        press_and_wait(page, "1")
        expect(page.locator("#status")).to_contain_text("Saved")
        page.reload()
        expect(page.locator("#student-label")).to_contain_text("alice")
        expect(page.locator(f"#item-{full}")).to_be_checked()
        expect(page.locator("#questions")).to_contain_text("3/3 marked")
        page.keyboard.press("j")
        expect(page.locator(f"#item-{none}")).to_be_checked()
        expect(page.locator(f"#item-{full}")).not_to_be_checked()
    assert stored(out) == {"alice": [full], "bob": [none], "carol": [full]}
    # Offline: every request went to the app itself.
    assert requests and all(r.startswith(url) for r in requests), requests
    # Stopping the server wrote the exports again, with the marks.
    rows = json.loads((out / "results.json").read_text(encoding="utf-8"))["submissions"]
    assert {r["id"]: r["score"] for r in rows} == {"alice": 5.0, "bob": 3.0, "carol": 5.0}


def test_two_tabs_marking_at_once_lose_nothing(out: Path, browser: Browser) -> None:
    with marking_server(out) as (url, _):
        one, two = browser.new_page(), browser.new_page()
        open_app(one, url)
        open_app(two, url)  # both load before either marks: tab two's view goes stale
        full, none = item_ids(out)
        press_and_wait(one, "1")  # alice, item 1, from tab one
        press_and_wait(two, "2")  # alice, item 2, from tab two, which never saw item 1
        one.keyboard.press("j")
        press_and_wait(one, "1")  # bob
        two.keyboard.press("j")
        two.keyboard.press("j")
        press_and_wait(two, "2")  # carol
        # Whole-record saves would have kept only one tab's marks for alice.
        one.reload()
        expect(one.locator("#questions")).to_contain_text("3/3 marked")
    assert stored(out) == {"alice": [full, none], "bob": [full], "carol": [none]}


def test_a_comment_and_an_item_apply_to_every_ticked_student(out: Path, page: Page) -> None:
    with marking_server(out) as (url, _):
        open_app(page, url)
        full, none = item_ids(out)
        page.keyboard.press("x")  # tick alice
        page.keyboard.press("j")
        page.keyboard.press("x")  # and bob
        page.keyboard.press("c")
        page.keyboard.type("Say why the gradient is 0.")
        press_and_wait(page, "Enter")  # the new comment, applied to both
        page.keyboard.press("Escape")
        press_and_wait(page, "2")  # item 2, to both
    with Gradebook(out / "gradebook.sqlite") as book:
        applied = book.marks.applied(Q)
        [comment] = book.marks.comments(Q)
    assert comment["text"] == "Say why the gradient is 0."
    assert {s: (m["item"], m["comment"]) for s, m in applied.items()} == {
        "alice": ([none], [comment["id"]]),
        "bob": ([none], [comment["id"]]),
    }


def test_html_and_script_in_answers_stay_inert(out: Path, page: Page) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    with marking_server(out) as (url, _):
        open_app(page, url)
        page.keyboard.press("j")
        page.keyboard.press("j")
        expect(page.locator("#student-label")).to_contain_text("carol")
        expect(page.locator("#answer-text")).to_contain_text("<script>window.pwned = 1")
        expect(page.locator("#answer-text")).to_contain_text("onerror")
        page.wait_for_timeout(300)
        assert page.evaluate("window.pwned") is None
        assert page.locator("#answer-text script, #answer-text img, #answer-text a").count() == 0
    assert dialogs == []


def test_requests_without_the_token_are_refused(out: Path) -> None:
    with marking_server(out) as (url, _):
        root = url.rsplit("/", 2)[0] + "/"
        for address in (root, root + "api/state", url[:-2] + "/api/state"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(address, timeout=5)
            assert refused.value.code == 403
            refused.value.close()


def test_every_acknowledged_mark_survives_kill_9(out: Path, page: Page) -> None:
    with marking_server(out) as (url, process):
        open_app(page, url)
        full, none = item_ids(out)
        acknowledged: list[str] = []
        for student in ANSWERS:
            press_and_wait(page, "1")
            acknowledged.append(student)
            page.keyboard.press("j")
        os.kill(process.pid, signal.SIGKILL)  # no shutdown, no export: only what was committed
        process.wait()
    assert stored(out) == {s: [full] for s in acknowledged}
