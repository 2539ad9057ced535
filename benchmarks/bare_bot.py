"""The floor for bench_flow.py: the least an aiogram bot can do per update.

A Dispatcher with one message handler that answers every message with one sendMessage,
polling whatever server TELEGRAM_API_URL points at (the benchmark's fake Bot API). No
database, no middlewares of ours, no outbox: what is left is aiogram, aiohttp and pydantic.

    TOKEN=123:abc... TELEGRAM_API_URL=http://127.0.0.1:PORT python benchmarks/bare_bot.py

Stops on SIGTERM/SIGINT (aiogram's own signal handling).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message


async def answer(message: Message) -> None:
    await message.answer("ok")


async def main() -> int:
    token = os.environ.get("TOKEN")
    api_url = os.environ.get("TELEGRAM_API_URL")
    if not token or not api_url:
        print("bare_bot: TOKEN and TELEGRAM_API_URL must be set", file=sys.stderr)
        return 2
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING").upper())
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url.rstrip("/")))
    bot = Bot(token=token, session=session)
    dispatcher = Dispatcher()
    dispatcher.message.register(answer)
    await dispatcher.start_polling(bot, handle_signals=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
