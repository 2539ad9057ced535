"""A relayed text keeps its formatting however long it is: joined with a header or a
signature and split at Telegram's limit, every piece is within the limit and every entity
stays on the characters it was on."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.data import texts
from support.fake_objects import utf16_len
from vizteh_bot.services.relay_rows import Incoming, Wrapping, relay_payloads
from vizteh_bot.telegram.render.entities import Formatted, joined, split
from vizteh_bot.telegram.render.fit import CAPTION_LIMIT, MESSAGE_LIMIT

PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KINDS = ("bold", "italic", "code", "underline", "strikethrough", "spoiler")


@st.composite
def formatted(draw: st.DrawFn, max_size: int = MESSAGE_LIMIT) -> Formatted:
    text = draw(texts(min_size=1, max_size=max_size))
    # Telegram's entities begin and end between characters, never inside a surrogate pair.
    bounds = [utf16_len(text[:index]) for index in range(len(text) + 1)]
    entities = []
    for _ in range(draw(st.integers(0, 6))):
        start = draw(st.integers(0, len(bounds) - 2))
        end = draw(st.integers(start + 1, len(bounds) - 1))
        entities.append(
            {
                "type": draw(st.sampled_from(KINDS)),
                "offset": bounds[start],
                "length": bounds[end] - bounds[start],
            }
        )
    return Formatted(text, tuple(entities))


def covered(piece: Formatted) -> list[tuple[str, str]]:
    """(entity type, the text it covers) for each entity of a piece."""
    units = piece.text.encode("utf-16-le")
    return [
        (
            e["type"],
            units[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le"),
        )
        for e in piece.entities
    ]


@PROPERTY
@given(formatted(), st.integers(200, MESSAGE_LIMIT))
def test_split_pieces_fit_and_entities_stay_on_their_text(body: Formatted, limit: int) -> None:
    pieces = split(body, limit)
    assert pieces, "a text that is not blank is sent"
    for piece in pieces:
        assert 0 < piece.length <= limit
        assert piece.text == piece.text.strip()
        for entity in piece.entities:
            assert entity["length"] > 0
            assert entity["offset"] + entity["length"] <= piece.length
    # What each entity covers in the pieces is part of what it covered in the whole.
    whole = dict.fromkeys(e["type"] for e in body.entities)
    for piece in pieces:
        for kind, text in covered(piece):
            assert kind in whole
            assert text in body.text


@PROPERTY
@given(formatted(max_size=MESSAGE_LIMIT), texts(max_size=60))
def test_a_header_and_a_text_at_the_limit_make_messages_telegram_takes(
    body: Formatted, header: str
) -> None:
    header = header.strip() or "Заявка №1 — клиент пишет:"  # a locale's line, trimmed
    incoming = Incoming(chat_id=5001, message_id=10, text=body)
    rows = relay_payloads(incoming, Wrapping(header=Formatted.bold(header), reply_to_message_id=3))
    assert rows[0].reply_to_message_id == 3
    assert [row.react for row in rows].count(True) == 1, "one mark once all of it is delivered"
    for row in rows:
        assert row.text is not None
        assert 0 < utf16_len(row.text) <= MESSAGE_LIMIT
        assert row.source_message_id == 10
    first = Formatted(rows[0].text or "", tuple(rows[0].entities))
    assert ("bold", header) in covered(first)


@PROPERTY
@given(formatted(max_size=CAPTION_LIMIT), texts(max_size=80))
def test_a_caption_with_a_signature_is_replaced_only_when_it_fits(
    caption: Formatted, name: str
) -> None:
    incoming = Incoming(chat_id=-100, message_id=7, caption=caption, can_caption=True)
    signature = Formatted(f"— {name}")
    rows = relay_payloads(incoming, Wrapping(signature=signature, report=True))
    [row] = rows
    assert row.message_id == 7
    assert row.report_chat_id == -100
    assert row.report_message_id == 7
    whole = joined(caption, signature, separator="\n\n")
    if whole.length <= CAPTION_LIMIT:
        assert row.caption == whole.text
        assert row.caption_entities == list(whole.entities)
    else:
        assert row.caption is None, "the caption is kept as it was rather than refused"
