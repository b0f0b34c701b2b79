"""The class summary with a large class: page size, time to render it in Python, and time for
Chromium to load and lay it out, at a laptop's and a phone's width.

    .venv/bin/python benchmarks/summary.py [--students 500] [--lang ko] [--out FOLDER]

Builds synthetic results shaped like a real backprop batch (12 checks, failures whose
messages differ in their numbers between students, cell events, a few ungradable
notebooks), renders index.html and opens it in the system Chromium through Playwright.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.grading.results import CellEvent, CheckResult, SubmissionResult  # noqa: E402
from grader.outputs.class_summary import render_summary  # noqa: E402

CHECKS = [
    (f"test_gradient[{name}]", f"the gradient {name}", 1.0)
    for name in ("dW1", "db1", "dW2", "db2", "dW3", "db3")
] + [
    ("test_forward_shapes", "the forward pass's shapes", 1.0),
    ("test_relu_values", "relu's values", 1.0),
    ("test_relu_negative", "relu on negative inputs", 1.0),
    ("test_d_relu", "d_relu's values", 1.0),
    ("test_loss", "the loss", 1.0),
    ("test_update", "the update step", 1.0),
]
# Mistakes as real messages word them, with numbers that differ from student to student.
MISTAKES = [
    "{c} does not match the numerical gradient (centred differences): the largest relative "
    "error is {e:.3g} at index ({i}, {j}), where it is {a:.4g} and the numerical gradient is "
    "{b:.4g}. A right gradient stays below 1e-06.",
    "backward(...) returned shape ({j}, {i}), the transpose of the expected ({i}, {j}). Check "
    "the order of the operands in your matrix products.",
    "relu(x) returned wrong values: {i} of 12 elements differ; the largest difference is "
    "{e:.3g} at index ({i}, 0): expected 0, got {a:.4g}.\nAll of them are where x < 0.",
    "relu(x) raised an exception:\nNameError: name 'dS2' is not defined\n  cell [{i}], line "
    "{j}, in backward: dW3 = dS3 @ A2.T",
]


def synthetic_class(count: int, seed: int = 0) -> list[SubmissionResult]:
    """``count`` submissions: most graded with a few failed checks, some ungradable."""
    rng = random.Random(seed)
    results = []
    for n in range(count):
        sid = f"20220{n:05d}_학생{n}"
        if n % 37 == 5:
            results.append(
                SubmissionResult(
                    sid,
                    f"{sid}.ipynb",
                    f"/in/{sid}.ipynb",
                    "backprop",
                    "ungradable",
                    reason="the file is not valid JSON",
                )
            )
            continue
        checks = []
        for name, description, points in CHECKS:
            failed = rng.random() < 0.25
            message = ""
            if failed:
                message = rng.choice(MISTAKES).format(
                    c=name,
                    e=rng.random(),
                    a=rng.uniform(-3, 3),
                    b=rng.uniform(-3, 3),
                    i=rng.randint(0, 9),
                    j=rng.randint(1, 9),
                )
            checks.append(
                CheckResult(
                    name,
                    description,
                    0.0 if failed else points,
                    points,
                    not failed,
                    message,
                    hidden=name.startswith("test_gradient"),
                    outcome="failed" if failed else "passed",
                )
            )
        cells = [CellEvent(rng.randint(1, 20), "error", "NameError")] if n % 9 == 0 else []
        results.append(
            SubmissionResult(
                sid,
                f"{sid}.ipynb",
                f"/in/{sid}.ipynb",
                "backprop",
                "graded",
                score=sum(c.points for c in checks),
                max_score=sum(c.max_points for c in checks),
                seed=7,
                checks=checks,
                cells=cells,
                duration=rng.uniform(1, 6),
                nngrade_version="0.3.0",
            )
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--lang", default="en")
    parser.add_argument("--out", type=Path, help="keep index.html (and screenshots) here")
    args = parser.parse_args()
    results = synthetic_class(args.students)
    render_summary(results, assignment_title="backprop", lang=args.lang)  # warm-up: templates
    times = []
    for _ in range(5):
        started = time.perf_counter()
        markup = render_summary(results, assignment_title="backprop", lang=args.lang)
        times.append(time.perf_counter() - started)
    folder = args.out or Path(tempfile.mkdtemp(prefix="nngrade-summary-"))
    folder.mkdir(parents=True, exist_ok=True)
    page_path = folder / "index.html"
    page_path.write_text(markup, encoding="utf-8")
    size = page_path.stat().st_size
    print(f"{args.students} submissions ({args.lang})")
    print(f"  page size:        {size / 1024:.0f} KiB ({size} bytes)")
    print(f"  render (Python):  {statistics.median(times) * 1000:.0f} ms (median of 5)")
    _browser(page_path, folder if args.out else None)
    if args.out is None:
        shutil.rmtree(folder)


def _browser(page_path: Path, screenshots: Path | None) -> None:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("  (no Chromium: the browser figures are left out)")
        return
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for label, viewport in (("1280 px", (1280, 900)), ("390 px", (390, 844))):
            loads = []
            for _ in range(3):
                page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
                requests: list[str] = []
                page.on("request", lambda r, seen=requests: seen.append(r.url))
                started = time.perf_counter()
                page.goto(page_path.as_uri(), wait_until="load")
                # Wait for layout and a paint: the time until the page can be read.
                page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
                loads.append(time.perf_counter() - started)
                timing = page.evaluate(
                    "() => { const t = performance.getEntriesByType('navigation')[0];"
                    " return [t.domContentLoadedEventEnd, t.loadEventEnd]; }"
                )
                height = page.evaluate("() => document.documentElement.scrollHeight")
                overflow = page.evaluate(
                    "() => document.documentElement.scrollWidth - window.innerWidth"
                )
                if screenshots is not None and len(loads) == 1:
                    page.screenshot(path=str(screenshots / f"summary-{viewport[0]}.png"))
                page.close()
            print(
                f"  Chromium {label:>8}: load+paint {statistics.median(loads) * 1000:.0f} ms "
                f"(DOMContentLoaded {timing[0]:.0f} ms, load {timing[1]:.0f} ms), "
                f"{height} px tall, {overflow} px overflow, {len(requests) - 1} extra requests"
            )
        browser.close()


if __name__ == "__main__":
    main()
