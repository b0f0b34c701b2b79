"""The browser tests' Chromium: the system's, driven by Playwright (pytest-playwright).

Playwright's own browser download is never used (no network at test time). Without a
system Chromium the browser tests skip, unless NNGRADE_REQUIRE_BROWSER=1 (set by .ci/run,
which installs it) makes them fail instead.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRED = os.environ.get("NNGRADE_REQUIRE_BROWSER") == "1"
# The viewports the reports must fit: a laptop and a phone.
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def chromium_launch_args(defaults: dict[str, Any]) -> dict[str, Any]:
    """Playwright's launch arguments for the system Chromium, or a skip (a failure in CI)."""
    if CHROMIUM is None:
        reason = "Chromium is not installed (apt-get install chromium)"
        if REQUIRED:
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    # Chromium's own sandbox cannot start as root (CI runs as root); the pages are ours.
    return {**defaults, "executable_path": CHROMIUM, "args": ["--no-sandbox"]}
