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


# ------------------------------------------------------------------- MessageEntity lists

ENTITY_TYPES = frozenset(
    {
        "mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number",
        "bold", "italic", "underline", "strikethrough", "spoiler", "blockquote",
        "expandable_blockquote", "code", "pre", "text_link", "text_mention", "custom_emoji",
        "bank_card_number", "date_time",
    }
)  # fmt: skip
# Types the Bot API drops from the input and Telegram finds in the text itself.
_DETECTED_TYPES = frozenset(
    {"mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number",
     "bank_card_number"}
)  # fmt: skip
_ENTITY_FIELDS = ("url", "user", "language", "custom_emoji_id", "unix_time", "date_time_format")
_REQUIRED = {"text_link": ("url", str), "text_mention": ("user", dict)}


class EntityError(ValueError):
    """An ``entities``/``caption_entities`` list Telegram refuses; the message is what follows
    "Bad Request: " in its answer."""


def _entity_int(entity: dict[str, object], name: str) -> int:
    if name not in entity:
        raise EntityError(f"can't parse MessageEntity: Can't find field \"{name}\"")
    value = entity[name]
    if not isinstance(value, int) or isinstance(value, bool):
        raise EntityError(f'can\'t parse MessageEntity: Field "{name}" must be of type Number')
    return value


def _parse_entity(raw: object) -> tuple[int, int, dict[str, object]]:
    if not isinstance(raw, dict):
        raise EntityError("can't parse MessageEntity: expected an Object")
    offset, length = _entity_int(raw, "offset"), _entity_int(raw, "length")
    kind = raw.get("type")
    if not isinstance(kind, str):
        raise EntityError("can't parse MessageEntity: Can't find field \"type\"")
    if kind not in ENTITY_TYPES:
        raise EntityError("can't parse MessageEntity: Unsupported type specified")
    if kind in _REQUIRED:
        field, expected = _REQUIRED[kind]
        if not isinstance(raw.get(field), expected):
            raise EntityError(f"can't parse MessageEntity: Can't find field \"{field}\"")
    if kind == "custom_emoji" and not str(raw.get("custom_emoji_id", "")).isdigit():
        raise EntityError(
            'can\'t parse MessageEntity: Field "custom_emoji_id" must be a valid Number'
        )
    entity: dict[str, object] = {"type": kind, "offset": offset, "length": length}
    entity.update((key, raw[key]) for key in _ENTITY_FIELDS if key in raw)
    return offset, length, entity


def check_entities(text: str, entities: object) -> list[dict[str, object]] | None:
    """The entities a message sent with ``text`` and ``entities`` (no parse_mode) carries.

    As the Bot API does: ignores a value that is not a list; rejects a malformed entity, an
    unknown type, a negative offset or length and a range beyond the text (counted in UTF-16
    code units) with :class:`EntityError`; drops empty entities.  Types Telegram detects
    itself (mentions, URLs, commands...) are kept only where they fit the text.
    """
    if not isinstance(entities, list):
        return None
    parsed = [_parse_entity(raw) for raw in entities]
    for offset, length, _ in parsed:
        if not 0 <= offset <= 1_000_000:
            raise EntityError(f"receive an entity with incorrect offset {offset}")
        if not 0 <= length <= 1_000_000:
            raise EntityError(f"receive an entity with incorrect length {length}")
    size = utf16_len(text)
    kept = []
    for offset, length, entity in sorted(parsed, key=lambda e: (e[0], -e[1])):
        if length == 0 or (entity["type"] in _DETECTED_TYPES and offset + length > size):
            continue
        if offset > size:
            raise EntityError(f"entity begins after the end of the text at UTF-16 offset {offset}")
        if offset + length > size:
            raise EntityError(
                f"entity beginning at UTF-16 offset {offset} ends after the end of the text at "
                f"UTF-16 offset {offset + length}"
            )
        kept.append(entity)
    return kept or None
