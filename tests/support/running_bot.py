"""The bot's Application running in the test's event loop, and the token it uses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import text

if TYPE_CHECKING:
    import asyncio

    from vizteh_bot.app.application import Application

BOT_TOKEN = "123456789:TEST-token-for-the-fake-bot-api-only"


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

    async def stop(self) -> None:
        if not self.task.done():
            await self.app.stop()
        await self.task
