"""What clients do in their private chat with the bot."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vizteh_bot.domain.input import clean_input
from vizteh_bot.domain.tickets import Client

if TYPE_CHECKING:
    from aiogram.types import User


def client_of(user: User, language: str) -> Client:
    return Client(
        user_id=user.id,
        full_name=clean_input(user.full_name),
        username=clean_input(user.username) if user.username else None,
        language=language,
    )
