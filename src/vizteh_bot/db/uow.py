"""Units of work: the repositories on one connection, in one transaction or in autocommit.

A service that changes a ticket writes the ticket, its event and the messages it owes in
one `transaction()`; reads and one-statement writes use `read()`, which costs no
BEGIN/COMMIT round trips on PostgreSQL.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from vizteh_bot.db.repositories.conversation import ConversationRepository
from vizteh_bot.db.repositories.outbox import OutboxRepository
from vizteh_bot.db.repositories.tickets import TicketRepository
from vizteh_bot.db.repositories.updates import UpdateLedgerRepository

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from vizteh_bot.db.engine import Connection, Database


class UnitOfWork:
    """The repositories, all on `connection`."""

    __slots__ = ("connection", "conversation", "outbox", "tickets", "updates")

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.tickets = TicketRepository(connection)
        self.conversation = ConversationRepository(connection)
        self.outbox = OutboxRepository(connection)
        self.updates = UpdateLedgerRepository(connection)


class Store:
    """Where units of work come from."""

    def __init__(self, database: Database) -> None:
        self.database = database

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        """Committed when the block ends, rolled back if it raises."""
        async with self.database.begin() as connection:
            yield UnitOfWork(connection)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[UnitOfWork]:
        """Each statement on its own: for reads and writes of one statement."""
        async with self.database.connect() as connection:
            yield UnitOfWork(connection)
