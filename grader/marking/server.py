"""Running the marking app: a free port on 127.0.0.1, a fresh token, and the exports written
again when it stops."""

from __future__ import annotations

import secrets
import signal
import socket
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import uvicorn

from grader.batch.out_folder import NoGradebook, export_outputs
from grader.marking.app import create_app

__all__ = ["HOST", "NoGradebook", "free_port", "serve"]

HOST = "127.0.0.1"  # never another interface: the answers are students' work


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def serve(
    out_dir: Path,
    *,
    port: int = 0,
    anonymous: bool = False,
    open_browser: bool = True,
    announce: Callable[[str], None] = print,
) -> list[tuple[str, Path]]:
    """Serve the marking app for ``out_dir`` until Ctrl-C, then write the exports again
    with the marks; return what was written. ``port`` 0 picks a free one."""
    if not (out_dir / "gradebook.sqlite").is_file():
        raise NoGradebook(f"{out_dir} has no gradebook.sqlite: run nngrade grade --out {out_dir}")
    token = secrets.token_urlsafe(24)
    port = port or free_port()
    url = f"http://{HOST}:{port}/{token}/"
    announce(f"Marking {out_dir} at {url}")
    announce("Marks are saved as you make them. Ctrl-C stops and writes the grades again.")
    app = create_app(out_dir, token, anonymous=anonymous)
    if open_browser:
        threading.Timer(0.5, webbrowser.open, (url,)).start()
    # uvicorn stops gracefully on Ctrl-C or SIGTERM, then raises the signal again with the
    # handler found before it started: ours turns SIGTERM, like SIGINT, into KeyboardInterrupt,
    # so that the exports are written in both cases.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        uvicorn.run(app, host=HOST, port=port, log_level="warning")
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    return export_outputs(out_dir)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
