"""Text as Telegram shows it: HTML parse mode and length in UTF-16 code units."""

from __future__ import annotations

import html
import re

HTML_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
        "tg-spoiler", "tg-emoji", "code", "pre", "blockquote",
    }
)  # fmt: skip
_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
# "All numerical HTML entities are supported. The API currently supports only the following
# named HTML entities: &lt;, &gt;, &amp; and &quot;." (Bot API, HTML style)
_NAMED_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")
NAMED_ENTITIES = frozenset({"lt", "gt", "amp", "quot"})


def _unescape(text: str) -> str:
    for match in _NAMED_ENTITY.finditer(text):
        if match.group(1) not in NAMED_ENTITIES:
            raise EntityParseError(f'Unsupported HTML entity "&{match.group(1)};"')
    return html.unescape(text)


class EntityParseError(ValueError):
    """Raised for text Telegram would reject with "can't parse entities"."""


def render_html(text: str) -> str:
    """What a user sees for ``text`` sent with ``parse_mode="HTML"``.

    Like Telegram, rejects tags it does not support, unbalanced tags and a bare ``<`` (for
    example an unescaped user name such as ``<Анна>``).
    """
    out: list[str] = []
    open_tags: list[str] = []
    pos = 0
    while pos < len(text):
        start = text.find("<", pos)
        if start < 0:
            out.append(_unescape(text[pos:]))
            break
        out.append(_unescape(text[pos:start]))
        offset = len(text[:start].encode())
        end = text.find(">", start)
        if end < 0:
            raise EntityParseError(f"Unclosed start tag at byte offset {offset}")
        body = text[start + 1 : end]
        if body.startswith("/"):
            name = body[1:].strip().lower()
            if not open_tags:
                raise EntityParseError(f"Unexpected end tag at byte offset {offset}")
            expected = open_tags.pop()
            if name != expected:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {offset}, expected "</{expected}>", '
                    f'found "</{name}>"'
                )
        else:
            match = _TAG_NAME.match(body)
            name = match.group(0).lower() if match else ""
            if name not in HTML_TAGS:
                raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {offset}')
            open_tags.append(name)
        pos = end + 1
    if open_tags:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    return "".join(out)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2
