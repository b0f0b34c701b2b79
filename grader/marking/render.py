"""A written answer's markdown as HTML that can only display: raw HTML in it is escaped.

markdown-it-py with ``html`` off writes every tag a student typed as text, and its link
check refuses ``javascript:`` and every ``data:`` URL but images. The images a cell carries
as attachments (``attachment:name.png``) become ``data:`` URLs of image types only.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

__all__ = ["answer_html"]

_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]*$")
_ATTACHMENT = re.compile(r"\(attachment:([^)\s]+)\)")


def _markdown() -> MarkdownIt:
    # "commonmark" with html=False: <script>, <img onerror=...> and the like come out as text.
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


_MD = _markdown()


def _inline_attachments(text: str, attachments: dict[str, dict[str, str]]) -> str:
    def replace(match: re.Match[str]) -> str:
        bundle = attachments.get(match[1], {})
        for mime in _IMAGE_TYPES:
            data = bundle.get(mime)
            if isinstance(data, str) and _BASE64.match(data):
                return f"(data:{mime};base64,{''.join(data.split())})"
        return "(#missing-attachment)"

    return _ATTACHMENT.sub(replace, text)


def answer_html(text: str, attachments: dict[str, dict[str, str]] | None = None) -> str:
    """``text`` (markdown) as inert HTML, its attached images inline."""
    return _MD.render(_inline_attachments(text, attachments or {}))
