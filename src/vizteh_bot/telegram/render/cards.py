"""What a ticket looks like to managers: its card, or a digest of several, always one valid
Telegram message (at most 4 096 visible UTF-16 units, HTML with every value escaped).

A card is its locale template with the request text cut in where `{ $text }` stands; when
the whole does not fit, the text is shortened with a visible marker and the full text is one
button away. A digest is assembled here from the cards, so no single Fluent placeable ever
carries them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from vizteh_bot.domain.tickets import Ticket, TicketStatus
from vizteh_bot.telegram.render.activity import activity_lines
from vizteh_bot.telegram.render.answers import (
    TEXT_SLOT,
    AnswerKeys,
    Line,
    answers_block,
    quote,
)
from vizteh_bot.telegram.render.fit import (
    MESSAGE_LIMIT,
    answer_cap,
    cut,
    utf16_len,
    visible_length,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from vizteh_bot.texts import Texts

__all__ = ["TEXT_SLOT", "ManagerMessage", "digest_size", "manager_message", "quote"]

CARD_KEYS = AnswerKeys("manager-card-answer", "manager-card-answer-long", "manager-card-skipped")
# An answer other than the request text is shortened past this on a card (the whole is
# one button away): a form of many fields still makes a card that fits.
ANSWER_LIMIT = 300
# A digest card keeps at least this much of its request text, or the digest takes fewer.
MIN_TEXT_SHARE = 100
# Room a digest leaves per card for the status line a later change adds.
STATUS_RESERVE = 120
# Names from Telegram profiles are up to 129 characters; a card needs no more than this.
PROFILE_NAME_LIMIT = 64
COMPACT_NAME_LIMIT = 40


@dataclass(frozen=True, slots=True)
class ManagerMessage:
    html: str
    # Tickets whose request text is shortened here (each gets a "full text" button).
    shortened: frozenset[int]


@dataclass(frozen=True, slots=True)
class _Frame:
    """A card without its request text."""

    ticket: Ticket
    head: str
    tail: str
    fixed: int
    # The request text as this card shows it ("" when the form had none), and its length.
    text: str
    need: int
    # An answer other than the text was shortened: the card gets a full-text button.
    cut_answers: bool


def manager_message(texts: Texts, tickets: Sequence[Ticket], zone: ZoneInfo) -> ManagerMessage:
    """One ticket's card, or a digest of several when a backlog made us group them."""
    frames = [_frame(texts, ticket, zone) for ticket in tickets]
    header = _digest_header(texts, len(frames))
    available = MESSAGE_LIMIT - _fixed_total(texts, header, frames)
    budgets = _shares([frame.need for frame in frames], available)
    marker = max(visible_length(_cut_marker(texts, frame.ticket)) for frame in frames)
    if any(b < f.need and b < marker for b, f in zip(budgets, frames, strict=True)):
        # Even the markers do not fit (long names and status lines on every card of a
        # digest): one line per ticket, which always does.
        return ManagerMessage(_compact(texts, header, tickets), frozenset())
    cards, shortened = [], set()
    for frame, budget in zip(frames, budgets, strict=True):
        if frame.cut_answers:
            shortened.add(frame.ticket.id)
        if frame.need <= budget:
            body = quote(frame.text)
        else:
            marker_html = _cut_marker(texts, frame.ticket)
            shown = cut(frame.text, budget - visible_length(marker_html))
            body = quote(shown) + marker_html
            shortened.add(frame.ticket.id)
        cards.append(frame.head + body + frame.tail)
    body = cards[0] if header is None else header + _separator(texts).join(cards)
    return ManagerMessage(body, frozenset(shortened))


def digest_size(texts: Texts, tickets: Sequence[Ticket], zone: ZoneInfo, most: int) -> int:
    """How many of `tickets`, from the first, one message shows well (at least one).

    Each card must keep `MIN_TEXT_SHARE` of its text (or all of it) with room left for a
    status line per card, so that a later change can always be shown in the same message.
    """
    frames: list[_Frame] = []
    for ticket in tickets[:most]:
        frames.append(_frame(texts, ticket, zone))
        if len(frames) == 1:
            continue
        header = _digest_header(texts, len(frames))
        reserve = STATUS_RESERVE * len(frames)
        available = MESSAGE_LIMIT - _fixed_total(texts, header, frames) - reserve
        needs = [frame.need for frame in frames]
        budgets = _shares(needs, available)
        if any(b < min(n, MIN_TEXT_SHARE) for b, n in zip(budgets, needs, strict=True)):
            frames.pop()
            break
    return max(1, len(frames))


def _frame(texts: Texts, ticket: Ticket, zone: ZoneInfo) -> _Frame:
    status = texts(_STATUS_KEYS.get(ticket.status, "manager-status-open"))
    if ticket.status_changed_at is not None and ticket.status_changed_by is not None:
        status = texts(
            "manager-card-status-changed",
            status=status,
            by=quote(cut(ticket.status_changed_by, PROFILE_NAME_LIMIT)),
            at=_when(ticket.status_changed_at, zone),
        )
    lines = [Line(f.label(texts.locale), value, f.main) for f, value in ticket.shown_answers()]
    answers = answers_block(
        texts,
        lines,
        keys=CARD_KEYS,
        cap=answer_cap(len(lines), ANSWER_LIMIT),
        # Where the card of the fixed form had it: after the name and phone, before the text.
        before_text=texts("manager-card-profile", profile=_profile_link(ticket)),
    )
    rendered = texts(
        "manager-card",
        status_icon=_icon(ticket),
        number=ticket.id,
        created_at=_when(ticket.created_at, zone),
        answers=answers.html,
        status=status,
    )
    head, slot, tail = rendered.partition(TEXT_SLOT)
    tail = tail.replace(TEXT_SLOT, "")  # a template that names the text twice shows it once
    tail += activity_lines(texts, ticket, zone)
    text = ticket.text if slot else ""
    fixed = visible_length(head) + visible_length(tail)
    return _Frame(ticket, head, tail, fixed, text, utf16_len(text), answers.shortened)


def _fixed_total(texts: Texts, header: str | None, frames: list[_Frame]) -> int:
    fixed = sum(frame.fixed for frame in frames)
    if header is not None:
        fixed += visible_length(header) + visible_length(_separator(texts)) * (len(frames) - 1)
    return fixed


def _shares(needs: list[int], available: int) -> list[int]:
    """Split `available` units between texts: short ones take what they need, long ones an
    equal share of the rest."""
    budgets = [0] * len(needs)
    remaining = max(0, available)
    pending = sorted(range(len(needs)), key=lambda index: needs[index])
    while pending:
        share = remaining // len(pending)
        first = pending[0]
        if needs[first] > share:
            for index in pending:
                budgets[index] = share
            break
        budgets[first] = needs[first]
        remaining -= needs[first]
        pending.pop(0)
    return budgets


def _compact(texts: Texts, header: str | None, tickets: Sequence[Ticket]) -> str:
    lines = [
        texts(
            "manager-card-compact",
            status_icon=_icon(ticket),
            number=ticket.id,
            name=quote(cut(ticket.name, COMPACT_NAME_LIMIT)),
            status=texts(_STATUS_KEYS.get(ticket.status, "manager-status-open")),
        )
        for ticket in tickets
    ]
    return (header or "") + "\n".join(lines)


def _digest_header(texts: Texts, count: int) -> str | None:
    return None if count == 1 else texts("manager-digest-header", count=count) + "\n\n"


def _separator(texts: Texts) -> str:
    return "\n\n" + texts("manager-digest-separator") + "\n\n"


def _cut_marker(texts: Texts, ticket: Ticket) -> str:
    return texts("manager-card-text-cut", number=ticket.id)


def _icon(ticket: Ticket) -> str:
    return "🆕" if ticket.status is TicketStatus.OPEN else "☑️"


_STATUS_KEYS = {
    TicketStatus.OPEN: "manager-status-open",
    TicketStatus.CLOSED: "manager-status-closed",
}


def _when(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%d.%m.%Y %H:%M} ({local.tzname()})"


def _profile_link(ticket: Ticket) -> str:
    client = ticket.client
    name = quote(cut(client.full_name, PROFILE_NAME_LIMIT))
    link = f'<a href="tg://user?id={client.user_id}">{name}</a>'
    if client.username:
        return f"{link} (@{quote(client.username)})"
    return link
