"""The values a failure message names, read back for a student's report: the input, expected
against got as a table, a picture of 2-D arrays, and a call the student can paste to
reproduce it. Messages are the only record of them in a result, so this reads their
standard forms (grader/checks/_explain.py, _compare.py); a message in another form simply
gets none of these.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from html import escape

__all__ = ["Difference", "array_picture", "differences", "inputs", "reproduce_snippet"]

_AT = re.compile(r"^\s*at (?:the largest difference )?(.+?): expected (\S+?),? got (\S+?)\.?$")
_LARGEST = re.compile(
    r"largest difference is \S+ at (index \([\d, ]*\)): expected (\S+), got (\S+)\.(?:\s|$)"
)
_SCALAR = re.compile(r"returned (\S+?); expected (\S+?)\.(?:\s|$)")
_BLOCK = re.compile(r"^\s*(expected|got)\s*:\s*(\[.*\]|\S+)\s*$", re.M)
_CALL = re.compile(r"^\s*(\w+)\(([\w, ]*)\)")
_BINDING = re.compile(r"\b(\w+) = (\[[-\w., \[\]]*\]|-?[\d.]+(?:e-?\d+)?)")


@dataclass(frozen=True)
class Difference:
    where: str  # "index (0, 1)" or "x[0, 1] = 0.5"
    expected: str
    got: str


def differences(message: str) -> list[Difference]:
    """Expected against got, element by element, as the message lists them."""
    rows: list[Difference] = []
    largest = _LARGEST.search(message)
    if largest:
        rows.append(Difference(*largest.groups()))
    for line in message.splitlines():
        match = _AT.match(line.removeprefix("For example, "))
        if match and not any(row.where == match.group(1) for row in rows):
            rows.append(Difference(match.group(1), match.group(2), match.group(3)))
    if not rows:
        blocks = dict((kind, value) for kind, value in _BLOCK.findall(message))
        if "expected" in blocks and "got" in blocks:
            rows.append(Difference("", blocks["expected"], blocks["got"]))
        elif scalar := _SCALAR.search(message.split("\n", 1)[0]):
            rows.append(Difference("", scalar.group(2), scalar.group(1)))
    return rows[:6]


def inputs(message: str) -> dict[str, str]:
    """The inputs the message gives ("for x = [...] and y = [...]"), by name."""
    head = message.split("\n", 1)[0]
    call = _CALL.match(head)
    _, _, after = head.partition(" for ")
    if call is None or not after:
        return {}
    # Only the call's own arguments: "for a batch of m = 7" is not an input.
    params = {name.strip() for name in call.group(2).split(",")}
    return {name: value for name, value in _BINDING.findall(after) if name in params}


def reproduce_snippet(message: str) -> str:
    """Code to paste into the notebook to make the same call, when the message gives every
    argument; "" otherwise (random inputs are not in the message)."""
    call = _CALL.match(message)
    if call is None:
        return ""
    names = [name.strip() for name in call.group(2).split(",") if name.strip()]
    given = inputs(message)
    if not names or any(name not in given for name in names):
        return ""
    lines = ["import numpy as np"]
    lines += [f"{name} = np.array({given[name]})" for name in names]
    lines.append(f"print({call.group(1)}({', '.join(names)}))")
    return "\n".join(lines)


def _matrix(text: str) -> list[list[float]] | None:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if not (isinstance(value, list) and value and all(isinstance(r, list) for r in value)):
        return None
    width = len(value[0])
    if width == 0 or any(len(row) != width for row in value) or len(value) * width > 400:
        return None
    if not all(isinstance(v, int | float) for row in value for v in row):
        return None
    return [[float(v) for v in row] for row in value]


def array_picture(expected: str, got: str) -> str:
    """A small inline SVG of two 2-D arrays and their difference (blue negative, red
    positive), or "" when they are not two small 2-D arrays of the same shape."""
    e, g = _matrix(expected), _matrix(got)
    if e is None or g is None or len(e) != len(g) or len(e[0]) != len(g[0]):
        return ""
    d = [[gv - ev for ev, gv in zip(er, gr, strict=True)] for er, gr in zip(e, g, strict=True)]
    rows, cols = len(e), len(e[0])
    cell = max(4, min(18, 90 // max(rows, cols)))
    width, height = cols * cell, rows * cell
    panels = [("expected", e), ("got", g), ("got − expected", d)]
    parts = []
    for index, (title, values) in enumerate(panels):
        scale = max((abs(v) for row in values for v in row if math.isfinite(v)), default=1.0) or 1.0
        x0 = index * (width + 16)
        parts.append(f'<text x="{x0}" y="11" font-size="11">{escape(title)}</text>')
        for r, row in enumerate(values):
            for c, value in enumerate(row):
                parts.append(
                    f'<rect x="{x0 + c * cell}" y="{16 + r * cell}" width="{cell}" '
                    f'height="{cell}" fill="{_colour(value, scale)}"/>'
                )
    total = 3 * width + 32
    return (
        f'<svg class="picture" viewBox="0 0 {total} {height + 16}" width="{total}" '
        f'height="{height + 16}" role="img" aria-label="expected, got and their difference">'
        + "".join(parts)
        + "</svg>"
    )


def _colour(value: float, scale: float) -> str:
    if not math.isfinite(value):
        return "#000"
    share = max(-1.0, min(1.0, value / scale))
    fade = round(255 * (1 - abs(share)))
    return f"rgb(255,{fade},{fade})" if share > 0 else f"rgb({fade},{fade},255)"
