"""Shortcuts for delivery tests: tickets created the way the Send button creates them."""

from __future__ import annotations

import re
import uuid

from support.fake_bot_api import ApiCall, FakeBotAPI
from support.forms import DEFAULT_FORM, default_answers
from vizteh_bot.app.application import Application
from vizteh_bot.domain.tickets import Client
from vizteh_bot.services.tickets import submit_ticket

TICKET_NUMBER = re.compile(r"(?:Заявка|Request) [№#](\d+)")


async def submit(app: Application, client_id: int, text: str = "Нужна консультация") -> int:
    """Commit a ticket through the same service the client's Send button calls."""
    submission = await submit_ticket(
        app.store,
        app.delivery,
        client=Client(client_id, f"Client {client_id}", None, "ru"),
        request_form=DEFAULT_FORM,
        answers=default_answers(f"Client {client_id}", "+79161234567", text),
        form_id=uuid.uuid4().hex,
        manager_chat_id=app.manager_chat.current_id,
        limit_per_hour=1000,
    )
    return submission.ticket.id


def delivered_cards(api: FakeBotAPI, chat_id: int) -> list[ApiCall]:
    return [
        call
        for call in api.calls_for("sendMessage", chat_id=chat_id)
        if call.ok and TICKET_NUMBER.search(call.text or "")
    ]


def ticket_numbers(calls: list[ApiCall]) -> list[int]:
    """Every ticket number the manager could read, in the order the messages arrived."""
    return [int(number) for call in calls for number in TICKET_NUMBER.findall(call.text or "")]
