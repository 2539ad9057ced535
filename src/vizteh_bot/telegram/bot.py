"""The Bot objects: one for handlers' direct replies, one for the outbox worker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

if TYPE_CHECKING:
    from vizteh_bot.config import Settings


def create_bot(settings: Settings) -> Bot:
    # A request Telegram does not answer in TELEGRAM_TIMEOUT fails (and is retried or kept)
    # rather than holding a person's answer for aiogram's default minute.
    session = AiohttpSession(
        api=TelegramAPIServer.from_base(settings.telegram_api_url),
        timeout=settings.telegram_timeout,
    )
    return Bot(
        token=settings.token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )
