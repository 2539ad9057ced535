"""TicketRepository against a real database, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from support.running_bot import BOT_TOKEN
from vizteh_bot.config import Settings
from vizteh_bot.db.engine import Database, create_database
from vizteh_bot.db.repositories.tickets import Actor, TicketNotFound, TicketRepository
from vizteh_bot.domain.tickets import Client, NewTicket, TicketStatus
from vizteh_bot.migrations import apply_migrations

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


@pytest.fixture
def repo(engine: Database) -> TicketRepository:
    return TicketRepository(engine)


def new_ticket(key: str | None = None, client: Client = ANNA, **fields: str) -> NewTicket:
    values = {"name": "Анна", "phone": "+79161234567", "text": "Нужен сайт <b>&</b>", **fields}
    return NewTicket(
        client=client, submission_key=key or f"{client.user_id}:{uuid.uuid4().hex}", **values
    )


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


async def test_create_and_get_round_trip(repo: TicketRepository, engine: Database) -> None:
    before = datetime.now(UTC)
    ticket, created = await repo.create(
        new_ticket(text="Нужен сайт 🚀\nс <script>", name="Анна <b>"), MANAGER_CHAT_ID
    )
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
    assert await repo.find_by_submission_key("no-such-key") is None

    events = await repo.events(ticket.id)
    assert [(e["old_status"], e["new_status"], e["actor_id"]) for e in events] == [
        (None, "open", 5001)
    ]
    assert events[0]["actor_name"] == "Анна Петрова"
    assert await repo.get(ticket.id + 1000) is None


async def test_client_without_username(repo: TicketRepository) -> None:
    client = Client(user_id=5002, full_name="Боб", username=None, language="en")
    ticket, _ = await repo.create(new_ticket(client=client), MANAGER_CHAT_ID)
    loaded = await repo.get(ticket.id)
    assert loaded is not None
    assert loaded.client == client


async def test_ids_grow(repo: TicketRepository) -> None:
    first, _ = await repo.create(new_ticket(), MANAGER_CHAT_ID)
    second, _ = await repo.create(new_ticket(), MANAGER_CHAT_ID)
    assert second.id > first.id


async def test_same_submission_key_twice_makes_one_ticket(
    repo: TicketRepository, engine: Database
) -> None:
    key = "5001:form-1"
    first, created = await repo.create(new_ticket(key), MANAGER_CHAT_ID)
    again, created_again = await repo.create(new_ticket(key, text="другой текст"), MANAGER_CHAT_ID)
    assert created is True
    assert created_again is False
    assert again == first
    assert again.text == "Нужен сайт <b>&</b>"
    assert await repo.find_by_submission_key(key) == first
    assert await count(engine, "tickets") == 1
    assert await count(engine, "ticket_events") == 1
    assert await count(engine, "outbox") == 2


async def test_concurrent_creates_with_one_key_make_one_ticket(
    repo: TicketRepository, engine: Database
) -> None:
    key = "5001:double-tap"
    results = await asyncio.gather(
        *(repo.create(new_ticket(key), MANAGER_CHAT_ID) for _ in range(5))
    )
    assert sorted(created for _, created in results) == [False, False, False, False, True]
    assert len({ticket.id for ticket, _ in results}) == 1
    assert await count(engine, "tickets") == 1
    assert await count(engine, "ticket_events") == 1
    assert await count(engine, "outbox") == 2


async def test_outbox_rows_are_written_with_the_ticket(
    repo: TicketRepository, engine: Database
) -> None:
    ticket, _ = await repo.create(new_ticket(), MANAGER_CHAT_ID)
    outbox = await rows(
        engine,
        "SELECT kind, chat_id, ticket_id, state, attempts, message_id FROM outbox ORDER BY id",
    )
    assert outbox == [
        {
            "kind": "ticket_card",
            "chat_id": MANAGER_CHAT_ID,
            "ticket_id": ticket.id,
            "state": "pending",
            "attempts": 0,
            "message_id": None,
        },
        {
            "kind": "client_confirmation",
            "chat_id": ANNA.user_id,
            "ticket_id": ticket.id,
            "state": "pending",
            "attempts": 0,
            "message_id": None,
        },
    ]


async def test_ticket_and_outbox_commit_together_or_not_at_all(
    repo: TicketRepository, engine: Database
) -> None:
    """If the outbox rows cannot be written, the ticket and its event are not kept either."""
    await rename_table(engine, "outbox", "outbox_away")
    try:
        with pytest.raises(Exception, match="outbox"):
            await repo.create(new_ticket("5001:lost"), MANAGER_CHAT_ID)
    finally:
        await rename_table(engine, "outbox_away", "outbox")
    assert await count(engine, "tickets") == 0
    assert await count(engine, "ticket_events") == 0
    assert await repo.find_by_submission_key("5001:lost") is None

    # The same key works once the outbox is back: nothing half-written blocks it.
    ticket, created = await repo.create(new_ticket("5001:lost"), MANAGER_CHAT_ID)
    assert created
    assert await count(engine, "outbox") == 2
    assert await repo.get(ticket.id) == ticket


# ---------------------------------------------------------------------------- status


async def test_close_and_reopen(repo: TicketRepository, engine: Database) -> None:
    ticket, _ = await repo.create(new_ticket(), MANAGER_CHAT_ID)

    before = datetime.now(UTC)
    closed = await repo.set_status(ticket.id, TicketStatus.CLOSED, OLEG, MANAGER_CHAT_ID)
    assert closed.changed
    assert closed.ticket.status is TicketStatus.CLOSED
    assert closed.ticket.status_changed_by == "Олег"
    assert_aware_utc(closed.ticket.status_changed_at)
    assert closed.ticket.status_changed_at is not None
    assert before <= closed.ticket.status_changed_at <= datetime.now(UTC)
    assert closed.ticket.created_at == ticket.created_at
    assert await repo.get(ticket.id) == closed.ticket

    again = await repo.set_status(ticket.id, TicketStatus.CLOSED, MARIA, MANAGER_CHAT_ID)
    assert not again.changed
    assert again.ticket == closed.ticket  # Мария's press did not rewrite who closed it

    reopened = await repo.set_status(ticket.id, TicketStatus.OPEN, MARIA, MANAGER_CHAT_ID)
    assert reopened.changed
    assert reopened.ticket.status is TicketStatus.OPEN
    assert reopened.ticket.status_changed_by == "Мария"

    still_open = await repo.set_status(ticket.id, TicketStatus.OPEN, OLEG, MANAGER_CHAT_ID)
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
    refreshes = await rows(
        engine,
        "SELECT chat_id, ticket_id, state FROM outbox WHERE kind = 'card_refresh' ORDER BY id",
    )
    assert refreshes == [
        {"chat_id": MANAGER_CHAT_ID, "ticket_id": ticket.id, "state": "pending"},
        {"chat_id": MANAGER_CHAT_ID, "ticket_id": ticket.id, "state": "pending"},
    ]


async def test_concurrent_closes_change_once(repo: TicketRepository, engine: Database) -> None:
    ticket, _ = await repo.create(new_ticket(), MANAGER_CHAT_ID)
    changes = await asyncio.gather(
        repo.set_status(ticket.id, TicketStatus.CLOSED, OLEG, MANAGER_CHAT_ID),
        repo.set_status(ticket.id, TicketStatus.CLOSED, MARIA, MANAGER_CHAT_ID),
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
    repo: TicketRepository,
) -> None:
    ticket, _ = await repo.create(new_ticket(), MANAGER_CHAT_ID)
    targets = [TicketStatus.CLOSED, TicketStatus.OPEN] * 5
    changes = await asyncio.gather(
        *(repo.set_status(ticket.id, status, OLEG, MANAGER_CHAT_ID) for status in targets)
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
    repo: TicketRepository, engine: Database
) -> None:
    ticket, _ = await repo.create(new_ticket(), MANAGER_CHAT_ID)
    await rename_table(engine, "ticket_events", "ticket_events_away")
    try:
        with pytest.raises(Exception, match="ticket_events"):
            await repo.set_status(ticket.id, TicketStatus.CLOSED, OLEG, MANAGER_CHAT_ID)
    finally:
        await rename_table(engine, "ticket_events_away", "ticket_events")
    assert await repo.get(ticket.id) == ticket
    assert await count(engine, "outbox") == 2  # no card refresh for a change that did not happen

    closed = await repo.set_status(ticket.id, TicketStatus.CLOSED, OLEG, MANAGER_CHAT_ID)
    assert closed.changed


async def test_set_status_of_a_missing_ticket(repo: TicketRepository, engine: Database) -> None:
    with pytest.raises(TicketNotFound) as raised:
        await repo.set_status(424242, TicketStatus.CLOSED, OLEG, MANAGER_CHAT_ID)
    assert raised.value.ticket_id == 424242
    assert await count(engine, "ticket_events") == 0
    assert await count(engine, "outbox") == 0


async def test_count_open(repo: TicketRepository) -> None:
    assert await repo.count_open() == 0
    tickets = [(await repo.create(new_ticket(), MANAGER_CHAT_ID))[0] for _ in range(3)]
    assert await repo.count_open() == 3
    await repo.set_status(tickets[0].id, TicketStatus.CLOSED, OLEG, MANAGER_CHAT_ID)
    assert await repo.count_open() == 2
    await repo.set_status(tickets[0].id, TicketStatus.CLOSED, OLEG, MANAGER_CHAT_ID)
    assert await repo.count_open() == 2
    await repo.set_status(tickets[0].id, TicketStatus.OPEN, OLEG, MANAGER_CHAT_ID)
    assert await repo.count_open() == 3


async def test_recent_tickets_of_a_client(repo: TicketRepository) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    first, _ = await repo.create(new_ticket(), MANAGER_CHAT_ID)
    await repo.create(new_ticket(), MANAGER_CHAT_ID)
    other = Client(user_id=5009, full_name="Другой", username=None, language="ru")
    await repo.create(new_ticket(client=other), MANAGER_CHAT_ID)
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
