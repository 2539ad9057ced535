"""TOKEN, MANAGER_CHAT_ID and PHOTO_ID against Telegram: one concurrent round of calls."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, cast

from aiogram.enums import ChatMemberStatus, ChatType
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramServerError,
    TelegramUnauthorizedError,
)

from vizteh_bot.checks.findings import failed, ok, skipped, warning

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from aiogram import Bot
    from aiogram.types import ChatFullInfo, ChatMemberUnion, User

    from vizteh_bot.checks.findings import Finding
    from vizteh_bot.config import Settings

# What .env.example holds (a test keeps the two in step): a bot started with it would only
# meet Telegram's refusal, so it is stopped before it asks.
EXAMPLE_TOKEN = "123456789:replace-with-your-token-from-BotFather"  # noqa: S105 - a placeholder
EXAMPLE_MANAGER_CHAT_ID = -1001234567890
# Enough for a slow network; short enough that a start is not held up by a Telegram that
# does not answer (polling then retries on its own).
TIMEOUT_SECONDS = 5.0

_UNREACHABLE = (TelegramNetworkError, TelegramServerError, ClientDecodeError, TimeoutError)
_ID_HINT = "a group's id starts with a minus sign, a supergroup's with -100"


def example_values(settings: Settings) -> list[Finding]:
    found = []
    if settings.token.get_secret_value() == EXAMPLE_TOKEN:
        found.append(
            failed(
                "TOKEN",
                "still the example value from .env.example: write your bot's token "
                "from @BotFather (/newbot or /token) into .env",
            )
        )
    if settings.manager_chat_id == EXAMPLE_MANAGER_CHAT_ID:
        found.append(
            failed(
                "MANAGER_CHAT_ID",
                "still the example value from .env.example: write the id of your "
                'managers\' chat into .env (see "Finding MANAGER_CHAT_ID" in README.md)',
            )
        )
    return found


async def check_telegram(settings: Settings, bot: Bot) -> list[Finding]:
    """getMe, getChat and getChatMember on the manager chat, getFile on PHOTO_ID: at once."""
    chat_id, photo_id = settings.manager_chat_id, settings.photo_id
    if settings.token.get_secret_value() == EXAMPLE_TOKEN:
        return _skipped(settings, "TOKEN is the example value", token=False)
    wanted: dict[str, Awaitable[Any]] = {"me": bot.me()}  # remembered for the bot's own use
    if chat_id != EXAMPLE_MANAGER_CHAT_ID:
        wanted["chat"] = bot.get_chat(chat_id)
        if chat_id < 0:
            # The bot's id is the token's first part: no need to wait for getMe.
            wanted["member"] = bot.get_chat_member(chat_id, bot.id)
    if photo_id is not None:
        wanted["photo"] = bot.get_file(photo_id)
    seconds = min(TIMEOUT_SECONDS, settings.telegram_timeout)
    answers = await asyncio.gather(
        *(asyncio.wait_for(call, seconds) for call in wanted.values()), return_exceptions=True
    )
    got: dict[str, Any] = dict(zip(wanted, answers, strict=True))

    me = got["me"]
    if isinstance(me, TelegramUnauthorizedError):
        refused = "Telegram refuses this token: get a valid one from @BotFather (/token)"
        return [failed("TOKEN", refused), *_skipped(settings, "Telegram refuses TOKEN")]
    if isinstance(me, _UNREACHABLE):
        where = f"cannot reach Telegram at {settings.telegram_api_url} ({_reason(me)})"
        out = failed("Telegram", f"{where}: check the network", unreachable=True)
        return [out, *_skipped(settings, "Telegram could not be reached", token=True)]
    if isinstance(me, BaseException):
        refused = f"getMe failed ({_reason(me)}): check TELEGRAM_API_URL"
        return [failed("Telegram", refused), *_skipped(settings, "getMe failed", token=True)]
    user = cast("User", me)
    found = [ok("TOKEN", f"Telegram accepts it: the bot is @{user.username} (id {user.id})")]
    if "chat" in got:
        found.append(_manager_chat(chat_id, got["chat"], got.get("member")))
    found.append(_photo(got["photo"]) if "photo" in got else _no_photo())
    return found


def _manager_chat(chat_id: int, chat: object, member: object) -> Finding:
    if isinstance(chat, BaseException):
        return _chat_refused(chat_id, chat)
    info = cast("ChatFullInfo", chat)
    if info.type == ChatType.PRIVATE:
        return ok("MANAGER_CHAT_ID", f"the private chat with {info.first_name} ({chat_id})")
    where = f"{info.type} «{info.title}» ({chat_id})"
    if isinstance(member, BaseException):
        return _chat_refused(chat_id, member)
    state = cast("ChatMemberUnion", member)
    if state.status in (ChatMemberStatus.LEFT, ChatMemberStatus.KICKED) or not getattr(
        state, "is_member", True
    ):
        return failed(
            "MANAGER_CHAT_ID", f"the bot is not a member of {where}: add it to the group"
        )
    if not getattr(state, "can_send_messages", True):
        return failed(
            "MANAGER_CHAT_ID",
            f"the bot is muted in {where}: let it send messages "
            "(the group's permissions), or make it an administrator",
        )
    return ok("MANAGER_CHAT_ID", f"the bot can post in {where}")


def _chat_refused(chat_id: int, error: BaseException) -> Finding:
    if isinstance(error, TelegramMigrateToChat):
        return warning(
            "MANAGER_CHAT_ID",
            f"group {chat_id} became supergroup {error.migrate_to_chat_id}; the bot follows "
            f"it, set MANAGER_CHAT_ID={error.migrate_to_chat_id} when convenient",
        )
    if isinstance(error, TelegramForbiddenError):
        return failed(
            "MANAGER_CHAT_ID",
            f"the bot may not use chat {chat_id} ({_reason(error)}): add it to the group again",
        )
    if isinstance(error, TelegramBadRequest) and "chat not found" in error.message.lower():
        fix = (
            "add the bot to the group"
            if chat_id < 0
            else "the person must send /start to the bot first (a group: add the bot to it)"
        )
        return failed(
            "MANAGER_CHAT_ID",
            f"the bot cannot reach chat {chat_id}: {fix}, and check the id ({_ID_HINT})",
        )
    return failed(
        "MANAGER_CHAT_ID",
        f"Telegram refuses chat {chat_id} ({_reason(error)})",
        unreachable=isinstance(error, _UNREACHABLE),
    )


def _photo(answer: object) -> Finding:
    if isinstance(answer, TelegramAPIError) and not isinstance(answer, _UNREACHABLE):
        return warning(
            "PHOTO_ID",
            f"Telegram refuses it ({_reason(answer)}): «О компании» is sent as text alone; "
            "send the photo in the manager chat for a new id",
        )
    if isinstance(answer, BaseException):
        return warning("PHOTO_ID", f"could not be checked ({_reason(answer)})")
    return ok("PHOTO_ID", "Telegram knows the file")


def _no_photo() -> Finding:
    return skipped("PHOTO_ID", "it is not set («О компании» is sent as text alone)")


def _skipped(settings: Settings, because: str, *, token: bool = False) -> list[Finding]:
    """What was not checked `because` (the example values say so themselves)."""
    found = [skipped("TOKEN", because)] if token else []
    if settings.manager_chat_id != EXAMPLE_MANAGER_CHAT_ID:
        found.append(skipped("MANAGER_CHAT_ID", because))
    found.append(_no_photo() if settings.photo_id is None else skipped("PHOTO_ID", because))
    return found


def _reason(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "no answer in time"
    if isinstance(error, TelegramAPIError):
        return error.message
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
