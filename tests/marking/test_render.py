"""Answers as HTML: markdown rendered, raw HTML and script URLs escaped, attached images inline."""

from __future__ import annotations

from grader.marking.render import answer_html
from tests.marking.support import HOSTILE


def test_raw_html_in_an_answer_is_text() -> None:
    html = answer_html(HOSTILE)
    assert "<script" not in html and '<img src="nowhere' not in html
    assert "&lt;script&gt;" in html and "onerror" in html  # shown, as text
    # The javascript: link and the data:text/html image stay markdown text: no link, no image.
    assert 'href="' not in html and 'src="' not in html and "<a" not in html


def test_markdown_is_rendered() -> None:
    assert answer_html("- **x**\n- `y`") == (
        "<ul>\n<li><strong>x</strong></li>\n<li><code>y</code></li>\n</ul>\n"
    )


def test_attached_images_become_data_urls_of_image_types_only() -> None:
    png = {"p.png": {"image/png": "iVBORw0KGgo="}}
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in answer_html("![a](attachment:p.png)", png)
    svg = {"s.svg": {"image/svg+xml": "PHN2Zz4="}}
    assert "data:image/svg" not in answer_html("![a](attachment:s.svg)", svg)
