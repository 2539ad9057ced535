"""The HTML a question may hold: what Telegram's HTML parse mode accepts, checked at load
so that a question never makes Telegram refuse the message."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_BARE_AMPERSAND = re.compile(r"&(?!(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);)")
# Telegram's HTML style: these tags, numeric entities and four named ones.
_ALLOWED = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "a",
    "blockquote", "tg-spoiler", "span",
}  # fmt: skip
_NAMED_ENTITIES = {"lt", "gt", "amp", "quot"}


class MarkupError(ValueError):
    pass


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED:
            raise MarkupError(
                f"<{tag}> is not a Telegram tag; use <b>, <i>, <u>, <s>, <code>, <pre>, "
                "<blockquote>, <tg-spoiler>, <a href>, or write &lt; for a plain <"
            )
        if tag == "a" and not any(name == "href" and value for name, value in attrs):
            raise MarkupError("<a> needs an href")
        if tag == "span" and ("class", "tg-spoiler") not in attrs:
            raise MarkupError('<span> is only for a spoiler: <span class="tg-spoiler">')
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise MarkupError(f"</{tag}> closes a tag that is not open")
        self.open.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data or ">" in data:
            raise MarkupError("a lone < or >; write &lt; or &gt; for a plain one")
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in _NAMED_ENTITIES:
            raise MarkupError(
                f"&{name}; is not an entity Telegram knows; write the character itself "
                "(only &lt; &gt; &amp; &quot; and numeric ones like &#171; work)"
            )
        self.text.append(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.text.append(html.unescape(f"&#{name};"))


def check_markup(question: str) -> None:
    if _BARE_AMPERSAND.search(question):
        raise MarkupError("a lone &; write &amp; for a plain one")
    checker = _Checker()
    checker.feed(question)
    checker.close()
    if checker.open:
        raise MarkupError(f"<{checker.open[-1]}> is never closed")


def plain_text(question: str) -> str:
    """The question without its tags, as a reader sees it."""
    checker = _Checker()
    try:
        checker.feed(question)
        checker.close()
    except MarkupError:
        return html.unescape(question)
    return "".join(checker.text)
