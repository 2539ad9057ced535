"""The bot's Application running in the test's event loop, and the token it uses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import text

if TYPE_CHECKING:
    import asyncio

    from vizteh_bot.app.application import Application
    from vizteh_bot.domain.tickets import Ticket

BOT_TOKEN = "1000000001:TEST-token-for-the-fake-bot-api-only"  # the id is BOT_ID, as getMe says


class RunningBot:
    """The bot's Application, polling the fake server in this event loop."""

    def __init__(self, app: Application, task: asyncio.Task[None]) -> None:
        self.app = app
        self.task = task

    async def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        """Raw SQL against the bot's database, to check what it really stored."""
        async with self.app.database.connect() as connection:
            result = await connection.execute(text(sql), params)
            return [dict(row._mapping) for row in result]

    async def execute(self, sql: str, **params: Any) -> None:
        """Raw SQL that returns nothing (test data set-up: a row of another version, say)."""
        async with self.app.database.begin() as connection:
            await connection.execute(text(sql), params)

    async def ticket(self, ticket_id: int) -> Ticket | None:
        async with self.app.store.read() as uow:
            return await uow.tickets.get(ticket_id)

    async def count_pending(self) -> int:
        async with self.app.store.read() as uow:
            return await uow.outbox.count_pending()

    async def stop(self) -> None:
        if not self.task.done():
            await self.app.stop()
        await self.task
