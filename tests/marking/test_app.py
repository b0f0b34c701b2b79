"""The marking app in process (called as an ASGI app, no server): the token, the headers,
the API."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from grader.batch.gradebook import Gradebook
from grader.marking.app import CSP, create_app
from tests.marking.support import ANSWERS, grade_class, write_class

TOKEN = "s3cret-token"


@dataclass
class Reply:
    status_code: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    """Calls the ASGI app directly: one request, its response collected."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def request(self, method: str, path: str, body: bytes = b"") -> Reply:
        sent: list[dict[str, Any]] = []
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
        }

        bodies = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict[str, Any]:
            if bodies:
                return bodies.pop()
            await asyncio.Event().wait()  # the client never disconnects; the app stops asking
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        # In a thread of its own: pytest-playwright may hold an event loop in this one.
        with ThreadPoolExecutor(1) as thread:
            thread.submit(asyncio.run, self.app(scope, receive, send)).result()
        start = sent[0]
        headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
        content = b"".join(m.get("body", b"") for m in sent[1:])
        return Reply(start["status"], headers, content)

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, json: Any) -> Reply:
        return self.request("POST", path, globals()["json"].dumps(json).encode())


@pytest.fixture
def client(tmp_path: Path) -> Client:
    out = tmp_path / "out"
    grade_class(write_class(tmp_path / "class", ANSWERS), out)
    return Client(create_app(out, TOKEN, anonymous=True))


@pytest.mark.parametrize(
    "path",
    ["/", "/api/state", f"/{TOKEN}", f"/x{TOKEN}/api/state", "/x/api/state", f"/{TOKEN[:-1]}/"],
)
def test_requests_without_the_token_are_refused(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 403
    if not path.startswith(f"/{TOKEN}"):
        assert client.post(path.rstrip("/") + "/api/mark", json={}).status_code == 403


def test_a_request_the_page_never_sends_is_a_bad_request(client: Client) -> None:
    assert client.post(f"/{TOKEN}/api/mark", json={"question": "q"}).status_code == 400
    assert client.post(f"/{TOKEN}/api/item", json=[1]).status_code == 400


def test_every_page_carries_the_content_security_policy(client: Client) -> None:
    for path in ("/", "/static/marking.js", "/static/marking.css", "/api/state"):
        response = client.get(f"/{TOKEN}{path}")
        assert response.status_code == 200, path
        assert response.headers["content-security-policy"] == CSP
    assert "script-src 'self';" in CSP and "'unsafe-inline'" not in CSP
    assert client.get(f"/{TOKEN}/static/../app.py").status_code == 404


def test_anonymous_labels_hide_names_and_answers_come_as_inert_html(client: Client) -> None:
    data = client.get(f"/{TOKEN}/api/question/relu_zero").json()
    assert sorted(a["label"] for a in data["answers"]) == ["Student 1", "Student 2", "Student 3"]
    text = str(data)
    assert not any(name in text for name in ("alice", "bob", "carol"))
    hostile = [a["html"] for a in data["answers"] if "pwned" in a["html"]]
    assert hostile and "<script" not in hostile[0] and "&lt;script&gt;" in hostile[0]


def test_a_mark_is_committed_before_it_is_acknowledged(client: Client, tmp_path: Path) -> None:
    data = client.get(f"/{TOKEN}/api/question/relu_zero").json()
    [item] = [i for i in data["items"] if i["points"] == 2]
    subs = [a["submission"] for a in data["answers"]]
    body = {"question": "relu_zero", "submissions": subs, "kind": "item", "ref": item["id"]}
    assert client.post(f"/{TOKEN}/api/mark", json=dict(body, applied=True)).json() == {
        "saved": True
    }
    with Gradebook(tmp_path / "out" / "gradebook.sqlite") as book:
        assert sorted(book.marks.applied("relu_zero")) == sorted(ANSWERS)
    state = client.get(f"/{TOKEN}/api/state").json()
    assert [(q["marked"], q["total"]) for q in state["questions"]] == [(3, 3)]
