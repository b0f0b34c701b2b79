"""The marking web app: a page, its script and style, and a small JSON API over the gradebook.

Everything lives under ``/<token>/``; any other path, or a wrong token, is refused (403), so
another user or a web page in the same browser cannot read answers or write marks. Each POST
opens the gradebook, writes its rows in one commit and only then answers: a mark the page
shows as saved is on disk. The Content-Security-Policy allows only this app's own script
file and images inline as data, so nothing in an answer can run even if it got through.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route

from grader.batch.gradebook import GRADEBOOK, Gradebook
from grader.batch.out_folder import export_outputs
from grader.marking.render import answer_html
from grader.outputs.pages import TEMPLATES_DIR
from grader.outputs.written import WRITTEN_PREFIX

__all__ = ["CSP", "create_app"]

# The page and its script and style ship with the report templates (templates/, in the wheel
# as grader/templates/): served as files, never inline, so the CSP can forbid inline script.
STATIC = TEMPLATES_DIR
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the token is in the URL: never hand it to a link
    "Cache-Control": "no-store",
}

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class _TokenGate:
    """Refuses (403) every request whose path does not start with ``/<token>/``, and adds the
    security headers to every response."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app, self.prefix = app, f"/{token}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        head, slash, _ = path[1:].partition("/")
        if not secrets.compare_digest(f"/{head}", self.prefix) or not slash:
            await Response("Forbidden: open the address nngrade mark printed.", 403)(
                scope, receive, _with_headers(send)
            )
            return
        # The ASGI way to mount an app under a prefix: the path stays whole, root_path names it.
        scope = dict(scope, root_path=scope.get("root_path", "") + self.prefix)
        await self.app(scope, receive, _with_headers(send))


def _with_headers(send: Send) -> Send:
    async def wrapped(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            headers += [(k.lower().encode(), v.encode()) for k, v in _HEADERS.items()]
            message = dict(message, headers=headers)
        await send(message)

    return wrapped


def _labels(ids: list[str], anonymous: bool) -> dict[str, str]:
    if not anonymous:
        return {id: id for id in ids}
    # A stable order unrelated to names, so "Student 3" stays the same student all session.
    shuffled = sorted(ids, key=lambda id: hashlib.sha256(id.encode()).hexdigest())
    width = len(str(len(ids)))
    return {id: f"Student {n:0{width}d}" for n, id in enumerate(shuffled, 1)}


class _Marking:
    def __init__(self, out_dir: Path, anonymous: bool) -> None:
        self.out_dir, self.anonymous = out_dir, anonymous
        self.path = out_dir / GRADEBOOK
        self._secret = secrets.token_bytes(16)

    def key(self, submission: str) -> str:
        """What the page calls a submission: its id, or when anonymous an opaque key (ids are
        often students' names or file names)."""
        if not self.anonymous:
            return submission
        return hashlib.sha256(self._secret + submission.encode()).hexdigest()[:16]

    def resolve(self, keys: list[str], book: Gradebook, question: str) -> list[str]:
        """The submission ids of the page's keys (unknown ones are refused)."""
        ids = {self.key(a["submission"]): a["submission"] for a in book.marks.answers(question)}
        unknown = [k for k in keys if k not in ids]
        if unknown:
            raise ValueError(f"no such submission: {unknown[0]}")
        return [ids[k] for k in keys]

    def book(self) -> Gradebook:
        # One connection per request: each write is committed before the answer is sent.
        return Gradebook(self.path)

    def state(self) -> dict[str, Any]:
        with self.book() as book:
            questions = []
            for q in book.marks.questions():
                answers = book.marks.answers(q["id"])
                applied = book.marks.applied(q["id"])
                done = sum(
                    1
                    for a in answers
                    if a["submission"] in applied
                    and applied[a["submission"]]["item"]
                    and not applied[a["submission"]]["changed"]
                )
                questions.append(
                    {
                        "id": q["id"],
                        "points": q["points"],
                        "prompt_html": answer_html(q["prompt"]),
                        "marked": done,
                        "total": len(answers),
                    }
                )
        return {"questions": questions, "anonymous": self.anonymous}

    def question(self, qid: str) -> dict[str, Any]:
        with self.book() as book:
            answers = book.marks.answers(qid)
            applied = book.marks.applied(qid)
            results = {r.id: r for r in book.results(a["submission"] for a in answers)}
            labels = _labels([a["submission"] for a in answers], self.anonymous)
            items = book.marks.items(qid)
            rows = []
            for a in answers:
                sid = a["submission"]
                result = results.get(sid)
                auto = None
                if result is not None:
                    auto = {
                        "score": result.score,
                        "max_score": result.max_score,
                        "status": result.status,
                        "failed": [
                            c.description or c.name
                            for c in result.failed_checks
                            if not c.name.startswith(WRITTEN_PREFIX)
                        ],
                    }
                rows.append(
                    {
                        "submission": self.key(sid),
                        "label": labels[sid],
                        "state": a["state"],
                        "html": answer_html(a["text"], a["attachments"]),
                        "marks": applied.get(sid, {"item": [], "comment": [], "changed": False}),
                        "autograded": auto,
                    }
                )
            rows.sort(key=lambda row: row["label"])
            return {
                "question": qid,
                "items": [{"id": i.id, "label": i.label, "points": i.points} for i in items],
                "comments": book.marks.comments(qid),
                "answers": rows,
            }


async def _json_body(request: Request) -> dict[str, Any]:
    data = json.loads(await request.body())
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def create_app(out_dir: Path, token: str, *, anonymous: bool = False) -> ASGIApp:
    """The app for ``out_dir`` (a folder ``nngrade grade --out`` wrote), behind ``token``."""
    marking = _Marking(out_dir, anonymous)

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "marking.html", media_type="text/html; charset=utf-8")

    async def state(request: Request) -> Response:
        return JSONResponse(marking.state())

    async def question(request: Request) -> Response:
        return JSONResponse(marking.question(request.path_params["qid"]))

    async def mark(request: Request) -> Response:
        body = await _json_body(request)
        question = str(body["question"])
        with marking.book() as book:
            book.marks.set_mark(
                marking.resolve([str(s) for s in body["submissions"]], book, question),
                question,
                str(body["kind"]),
                int(body["ref"]),
                bool(body["applied"]),
            )
        return JSONResponse({"saved": True})

    async def item(request: Request) -> Response:
        body = await _json_body(request)
        label, points = str(body["label"]).strip(), float(body["points"])
        with marking.book() as book:
            if body.get("id") is None:
                id = book.marks.add_item(str(body["question"]), label, points)
            else:
                id = int(body["id"])
                book.marks.update_item(id, label, points)
        return JSONResponse({"saved": True, "id": id})

    async def comment(request: Request) -> Response:
        body = await _json_body(request)
        with marking.book() as book:
            id = book.marks.add_comment(str(body["question"]), str(body["text"]).strip())
        return JSONResponse({"saved": True, "id": id})

    async def confirm(request: Request) -> Response:
        body = await _json_body(request)
        question = str(body["question"])
        with marking.book() as book:
            [submission] = marking.resolve([str(body["submission"])], book, question)
            book.marks.confirm(submission, question)
        return JSONResponse({"saved": True})

    async def export(request: Request) -> Response:
        written = export_outputs(out_dir)
        return JSONResponse({"written": [[what, str(path)] for what, path in written]})

    async def bad_request(request: Request, exc: Exception) -> Response:
        # A request this page never sends (a field missing, the wrong type): refused, not a 500.
        return JSONResponse({"error": f"bad request: {exc!r}"}, status_code=400)

    app = Starlette(
        exception_handlers={KeyError: bad_request, ValueError: bad_request, TypeError: bad_request},
        routes=[
            Route("/", page),
            Route("/api/state", state),
            Route("/api/question/{qid}", question),
            Route("/api/mark", mark, methods=["POST"]),
            Route("/api/item", item, methods=["POST"]),
            Route("/api/comment", comment, methods=["POST"]),
            Route("/api/confirm", confirm, methods=["POST"]),
            Route("/api/export", export, methods=["POST"]),
            Mount("/static", routes=[Route("/{name}", _static)]),
        ],
    )
    return _TokenGate(app, token)


async def _static(request: Request) -> Response:
    # Only the app's own two files: no path from a request reaches the file system.
    name = request.path_params["name"]
    kinds = {"marking.js": "text/javascript", "marking.css": "text/css"}
    if name not in kinds:
        return Response("Not found", 404)
    return FileResponse(STATIC / name, media_type=f"{kinds[name]}; charset=utf-8")
