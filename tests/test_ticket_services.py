"""Submitting tickets and changing their status, against a real database on both backends.

Each change, its event and the outbox rows it owes are written in one transaction.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from support.forms import DEFAULT_FORM, default_answers
from support.running_bot import BOT_TOKEN
from vizteh_bot.config import Settings
from vizteh_bot.db.engine import Database, create_database
from vizteh_bot.db.repositories.tickets import Actor, TicketNotFound
from vizteh_bot.db.uow import Store
from vizteh_bot.domain.tickets import Client, Ticket, TicketStatus
from vizteh_bot.migrations import apply_migrations
from vizteh_bot.services.tickets import StatusChange, change_status, submit_ticket

MANAGER_CHAT_ID = -1001234567890
ANNA = Client(user_id=5001, full_name="Анна Петрова", username="anna_client", language="ru")
OLEG = Actor(7001, "Олег")
MARIA = Actor(7002, "Мария")


@pytest.fixture
async def engine(database: dict[str, Any]) -> AsyncIterator[Database]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, token=BOT_TOKEN, manager_chat_id=MANAGER_CHAT_ID, **database
    )
    await apply_migrations(settings)
    engine = create_database(settings)
    try:
        yield engine
    finally:
        await engine.dispose()


class Wakes:
    """Counts how often a service woke the outbox worker."""

    def __init__(self) -> None:
        self.count = 0

    def wake(self) -> None:
        self.count += 1


class Tickets:
    """The services and reads a test needs, on one store."""

    def __init__(self, engine: Database) -> None:
        self.store = Store(engine)
        self.wakes = Wakes()

    async def create(
        self, key: str | None = None, client: Client = ANNA, **fields: str
    ) -> tuple[Ticket, bool]:
        answers = default_answers("Анна", "+79161234567", "Нужен сайт <b>&</b>") | fields
        submission = await submit_ticket(
            self.store,
            self.wakes,
            client=client,
            request_form=DEFAULT_FORM,
            answers=answers,
            form_id=key or uuid.uuid4().hex,
            manager_chat_id=MANAGER_CHAT_ID,
            limit_per_hour=1000,
        )
        return submission.ticket, submission.created

    async def set_status(self, ticket_id: int, status: TicketStatus, actor: Actor) -> StatusChange:
        return await change_status(
            self.store,
            self.wakes,
            ticket_id=ticket_id,
            new_status=status,
            actor=actor,
            manager_chat_id=MANAGER_CHAT_ID,
        )

    async def get(self, ticket_id: int) -> Ticket | None:
        async with self.store.read() as uow:
            return await uow.tickets.get(ticket_id)

    async def by_key(self, form_id: str, client: Client = ANNA) -> Ticket | None:
        async with self.store.read() as uow:
            return await uow.tickets.by_submission_key(f"{client.user_id}:{form_id}")

    async def events(self, ticket_id: int) -> list[dict[str, Any]]:
        async with self.store.read() as uow:
            return await uow.tickets.events(ticket_id)

    async def count_open(self) -> int:
        async with self.store.read() as uow:
            return await uow.tickets.count_open()

    async def count_recent_by_client(self, client_id: int, since: datetime) -> int:
        async with self.store.read() as uow:
            return await uow.tickets.count_recent_by_client(client_id, since)

    async def oldest_recent_by_client(self, client_id: int, since: datetime) -> datetime | None:
        async with self.store.read() as uow:
            return await uow.tickets.oldest_recent_by_client(client_id, since)


@pytest.fixture
def repo(engine: Database) -> Tickets:
    return Tickets(engine)


async def rows(engine: Database, sql: str, **params: Any) -> list[dict[str, Any]]:
    async with engine.connect() as connection:
        result = await connection.execute(text(sql), params)
        return [dict(row._mapping) for row in result]


async def count(engine: Database, table: str) -> int:
    [row] = await rows(engine, f"SELECT count(*) AS n FROM {table}")
    return int(row["n"])


async def rename_table(engine: Database, old: str, new: str) -> None:
    """Make every write to a table fail (and restore it), to see what a failure leaves."""
    async with engine.begin() as connection:
        await connection.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


def assert_aware_utc(moment: datetime | None) -> None:
    assert moment is not None
    assert moment.tzinfo is not None
    assert moment.utcoffset() == timedelta(0)


# ---------------------------------------------------------------------------- create/get


async def test_create_and_get_round_trip(repo: Tickets, engine: Database) -> None:
    before = datetime.now(UTC)
    ticket, created = await repo.create(text="Нужен сайт 🚀\nс <script>", name="Анна <b>")
    after = datetime.now(UTC)
    assert created
    assert ticket.id >= 1
    assert ticket.client == ANNA
    assert (ticket.name, ticket.phone, ticket.text) == (
        "Анна <b>",
        "+79161234567",
        "Нужен сайт 🚀\nс <script>",
    )
    assert ticket.status is TicketStatus.OPEN
    assert_aware_utc(ticket.created_at)
    assert before <= ticket.created_at <= after
    assert ticket.status_changed_at is None
    assert ticket.status_changed_by is None
    # Where the card is becomes known only once the outbox worker has sent it.
    assert ticket.manager_chat_id is None
    assert ticket.manager_message_id is None

    loaded = await repo.get(ticket.id)
    assert loaded == ticket
    assert loaded is not None
    assert_aware_utc(loaded.created_at)
    assert await repo.by_key("no-such-key") is None

    events = await repo.events(ticket.id)
    assert [(e["old_status"], e["new_status"], e["actor_id"]) for e in events] == [
        (None, "open", 5001)
    ]
    assert events[0]["actor_name"] == "Анна Петрова"
    assert await repo.get(ticket.id + 1000) is None


async def test_client_without_username(repo: Tickets) -> None:
    client = Client(user_id=5002, full_name="Боб", username=None, language="en")
    ticket, _ = await repo.create(client=client)
    loaded = await repo.get(ticket.id)
    assert loaded is not None
    assert loaded.client == client


async def test_ids_grow(repo: Tickets) -> None:
    first, _ = await repo.create()
    second, _ = await repo.create()
    assert second.id > first.id


async def test_same_submission_key_twice_makes_one_ticket(repo: Tickets, engine: Database) -> None:
    key = "form-1"
    first, created = await repo.create(key)
    again, created_again = await repo.create(key, text="другой текст")
    assert created is True
    assert created_again is False
    assert again == first
    assert again.text == "Нужен сайт <b>&</b>"
    assert await repo.by_key(key) == first
    assert await count(engine, "tickets") == 1
    assert await count(engine, "ticket_events") == 1
    assert await count(engine, "outbox") == 2


async def test_concurrent_creates_with_one_key_make_one_ticket(
    repo: Tickets, engine: Database
) -> None:
    key = "double-tap"
    results = await asyncio.gather(*(repo.create(key) for _ in range(5)))
    assert sorted(created for _, created in results) == [False, False, False, False, True]
    assert len({ticket.id for ticket, _ in results}) == 1
    assert await count(engine, "tickets") == 1
    assert await count(engine, "ticket_events") == 1
    assert await count(engine, "outbox") == 2


async def test_outbox_rows_are_written_with_the_ticket(repo: Tickets, engine: Database) -> None:
    ticket, _ = await repo.create()
    outbox = await rows(
        engine,
        "SELECT kind, chat_id, ticket_id, audience, priority, state, attempts, message_id,"
        " payload FROM outbox ORDER BY id",
    )
    common = {"ticket_id": ticket.id, "state": "pending", "attempts": 0, "message_id": None}
    assert outbox == [
        {
            **common,
            "kind": "card",
            "chat_id": MANAGER_CHAT_ID,
            "audience": "managers",
            "priority": 0,
            "payload": None,
        },
        {
            **common,
            "kind": "notice",
            "chat_id": ANNA.user_id,
            "audience": "client",
            "priority": 0,
            "payload": json.dumps(
                {
                    "key": "ticket-accepted",
                    "args": {"number": ticket.id},
                    "locale": "ru",
                    "remove_keyboard": True,
                    "reply_to_message_id": None,
                },
                separators=(",", ":"),
            ),
        },
    ]
    assert repo.wakes.count == 1


async def test_ticket_and_outbox_commit_together_or_not_at_all(
    repo: Tickets, engine: Database
) -> None:
    """If the outbox rows cannot be written, the ticket and its event are not kept either."""
    await rename_table(engine, "outbox", "outbox_away")
    try:
        with pytest.raises(Exception, match="outbox"):
            await repo.create("lost")
    finally:
        await rename_table(engine, "outbox_away", "outbox")
    assert await count(engine, "tickets") == 0
    assert await count(engine, "ticket_events") == 0
    assert await repo.by_key("lost") is None

    # The same key works once the outbox is back: nothing half-written blocks it.
    ticket, created = await repo.create("lost")
    assert created
    assert await count(engine, "outbox") == 2
    assert await repo.get(ticket.id) == ticket


# ---------------------------------------------------------------------------- status


async def test_close_and_reopen(repo: Tickets, engine: Database) -> None:
    ticket, _ = await repo.create()

    before = datetime.now(UTC)
    closed = await repo.set_status(ticket.id, TicketStatus.CLOSED, OLEG)
    assert closed.changed
    assert closed.ticket.status is TicketStatus.CLOSED
    assert closed.ticket.status_changed_by == "Олег"
    assert_aware_utc(closed.ticket.status_changed_at)
    assert closed.ticket.status_changed_at is not None
    assert before <= closed.ticket.status_changed_at <= datetime.now(UTC)
    assert closed.ticket.created_at == ticket.created_at
    assert await repo.get(ticket.id) == closed.ticket

    again = await repo.set_status(ticket.id, TicketStatus.CLOSED, MARIA)
    assert not again.changed
    assert again.ticket == closed.ticket  # Мария's press did not rewrite who closed it

    reopened = await repo.set_status(ticket.id, TicketStatus.OPEN, MARIA)
    assert reopened.changed
    assert reopened.ticket.status is TicketStatus.OPEN
    assert reopened.ticket.status_changed_by == "Мария"

    still_open = await repo.set_status(ticket.id, TicketStatus.OPEN, OLEG)
    assert not still_open.changed

    events = await repo.events(ticket.id)
    assert [
        (e["old_status"], e["new_status"], e["actor_id"], e["actor_name"]) for e in events
    ] == [
        (None, "open", 5001, "Анна Петрова"),
        ("open", "closed", 7001, "Олег"),
        ("closed", "open", 7002, "Мария"),
    ]
    for event in events:
        assert_aware_utc(event["created_at"])
    # The card shows the ticket as it is when the refresh goes out: one pending refresh
    # stands for every change made before it is sent.
    refreshes = await rows(
        engine,
        "SELECT chat_id, ticket_id, state, priority FROM outbox WHERE kind = 'card_refresh'",
    )
    assert refreshes == [
        {"chat_id": MANAGER_CHAT_ID, "ticket_id": ticket.id, "state": "pending", "priority": 1}
    ]


async def test_concurrent_closes_change_once(repo: Tickets, engine: Database) -> None:
    ticket, _ = await repo.create()
    changes = await asyncio.gather(
        repo.set_status(ticket.id, TicketStatus.CLOSED, OLEG),
        repo.set_status(ticket.id, TicketStatus.CLOSED, MARIA),
    )
    assert sorted(change.changed for change in changes) == [False, True]
    winner = next(change for change in changes if change.changed)
    for change in changes:
        assert change.ticket.status is TicketStatus.CLOSED
        assert change.ticket.status_changed_by == winner.ticket.status_changed_by
    events = await repo.events(ticket.id)
    assert [e["new_status"] for e in events] == ["open", "closed"]
    assert events[1]["actor_name"] == winner.ticket.status_changed_by
    refreshes = await rows(engine, "SELECT id FROM outbox WHERE kind = 'card_refresh'")
    assert len(refreshes) == 1


async def test_many_concurrent_presses_on_both_buttons_stay_consistent(
    repo: Tickets,
) -> None:
    ticket, _ = await repo.create()
    targets = [TicketStatus.CLOSED, TicketStatus.OPEN] * 5
    changes = await asyncio.gather(
        *(repo.set_status(ticket.id, status, OLEG) for status in targets)
    )
    events = await repo.events(ticket.id)
    assert len(events) == 1 + sum(change.changed for change in changes)
    # The history is a proper alternation that ends where the ticket is.
    for previous, event in itertools.pairwise(events):
        assert event["old_status"] == previous["new_status"] != event["new_status"]
    final = await repo.get(ticket.id)
    assert final is not None
    assert final.status.value == events[-1]["new_status"]


async def test_status_and_its_event_commit_together_or_not_at_all(
    repo: Tickets, engine: Database
) -> None:
    ticket, _ = await repo.create()
    await rename_table(engine, "ticket_events", "ticket_events_away")
    try:
        with pytest.raises(Exception, match="ticket_events"):
            await repo.set_status(ticket.id, TicketStatus.CLOSED, OLEG)
    finally:
        await rename_table(engine, "ticket_events_away", "ticket_events")
    assert await repo.get(ticket.id) == ticket
    assert await count(engine, "outbox") == 2  # no card refresh for a change that did not happen

    closed = await repo.set_status(ticket.id, TicketStatus.CLOSED, OLEG)
    assert closed.changed


async def test_set_status_of_a_missing_ticket(repo: Tickets, engine: Database) -> None:
    with pytest.raises(TicketNotFound) as raised:
        await repo.set_status(424242, TicketStatus.CLOSED, OLEG)
    assert raised.value.ticket_id == 424242
    assert await count(engine, "ticket_events") == 0
    assert await count(engine, "outbox") == 0


async def test_count_open(repo: Tickets) -> None:
    assert await repo.count_open() == 0
    tickets = [(await repo.create())[0] for _ in range(3)]
    assert await repo.count_open() == 3
    await repo.set_status(tickets[0].id, TicketStatus.CLOSED, OLEG)
    assert await repo.count_open() == 2
    await repo.set_status(tickets[0].id, TicketStatus.CLOSED, OLEG)
    assert await repo.count_open() == 2
    await repo.set_status(tickets[0].id, TicketStatus.OPEN, OLEG)
    assert await repo.count_open() == 3


async def test_recent_tickets_of_a_client(repo: Tickets) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    first, _ = await repo.create()
    await repo.create()
    other = Client(user_id=5009, full_name="Другой", username=None, language="ru")
    await repo.create(client=other)
    assert await repo.count_recent_by_client(ANNA.user_id, since) == 2
    assert await repo.count_recent_by_client(ANNA.user_id, datetime.now(UTC)) == 0
    oldest = await repo.oldest_recent_by_client(ANNA.user_id, since)
    assert oldest == first.created_at
    assert_aware_utc(oldest)
    assert await repo.oldest_recent_by_client(4242, since) is None


def test_schema_head_constant_matches_the_newest_migration() -> None:
    from alembic.script import ScriptDirectory

    from vizteh_bot.migrations import SCHEMA_HEAD, alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))  # type: ignore[arg-type]
    assert script.get_current_head() == SCHEMA_HEAD
