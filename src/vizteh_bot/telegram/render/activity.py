"""The lines under a card about its conversation: who wrote last, what waits for an answer,
the managers' notes, a client who blocked the bot."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vizteh_bot.domain.tickets import Speaker
from vizteh_bot.telegram.render.answers import quote
from vizteh_bot.telegram.render.fit import cut

if TYPE_CHECKING:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from vizteh_bot.domain.tickets import Ticket
    from vizteh_bot.texts import Texts

# A note is shortened past this on a card; a card lists at most three.
NOTE_LIMIT = 200
AUTHOR_LIMIT = 40


def activity_lines(texts: Texts, ticket: Ticket, zone: ZoneInfo) -> str:
    """ "" for a request nobody has written about yet; else the lines, each after a newline."""
    lines = []
    if ticket.last_message_at is not None and ticket.last_message_from is not None:
        key = (
            "manager-card-last-client"
            if ticket.last_message_from is Speaker.CLIENT
            else "manager-card-last-manager"
        )
        line = texts(key, at=_when(ticket.last_message_at, zone))
        if ticket.waiting_messages:
            line += texts("manager-card-waiting", count=ticket.waiting_messages)
        lines.append(line)
    if ticket.client_blocked:
        lines.append(texts("manager-card-blocked"))
    lines.extend(
        texts(
            "manager-card-note",
            author=quote(cut(note.author, AUTHOR_LIMIT)),
            text=quote(_shortened(note.text)),
        )
        for note in ticket.notes
    )
    return "".join("\n" + line for line in lines)


def _shortened(text: str) -> str:
    one_line = " ".join(text.split())
    shown = cut(one_line, NOTE_LIMIT)
    return shown if shown == one_line else shown + "…"


def _when(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%d.%m %H:%M}"
