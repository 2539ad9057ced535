"""What to do when one message could not be sent: decided per message, never per loop.

Every exception a send can raise maps to one of a few outcomes. Those retrying cannot fix
(a rendering bug, a 400 Telegram will repeat, a kind this version does not know) put the
message in quarantine: kept with its error, shown to the managers, never retried blindly.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass

from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from sqlalchemy.exc import SQLAlchemyError

# 400 answers that mean "this chat, not this message": the chat will be fixed.
_CHAT_PROBLEMS = (
    "chat not found",
    "not enough rights",
    "have no rights",
    "need administrator rights",
    "chat_write_forbidden",
    "chat_restricted",
    "bot is not a member",
    "group chat was deactivated",
    "peer_id_invalid",
)


class Outcome(enum.Enum):
    SENT_UNREADABLE = "sent"  # Telegram took it; its answer could not be read
    RETRY = "retry"  # a passing fault: try the message again after a backoff
    RATE_LIMITED = "rate_limited"  # Telegram asks the chat to wait `delay` seconds
    MIGRATED = "migrated"  # the group became a supergroup: follow it
    CHAT_UNREACHABLE = "chat_unreachable"  # the bot cannot write there now
    NOT_MODIFIED = "not_modified"  # an edit that changes nothing: done
    GONE = "gone"  # the message to edit was deleted: nothing to do
    QUARANTINE = "quarantine"  # retrying will not fix it
    UNAUTHORIZED = "unauthorized"  # the token is refused: everything waits
    DATABASE = "database"  # our own database failed; the lease brings it back


@dataclass(frozen=True, slots=True)
class Failure:
    outcome: Outcome
    error: str
    delay: float = 0.0
    migrate_to: int | None = None
    message_id: int | None = None


def classify(error: BaseException) -> Failure:
    """The outcome of `error` raised while sending one outbox message."""
    text = _describe(error)
    if isinstance(error, TelegramRetryAfter):
        return Failure(Outcome.RATE_LIMITED, text, delay=float(error.retry_after))
    if isinstance(error, TelegramMigrateToChat):
        return Failure(Outcome.MIGRATED, text, migrate_to=error.migrate_to_chat_id)
    if isinstance(error, TelegramForbiddenError):
        return Failure(Outcome.CHAT_UNREACHABLE, text)
    if isinstance(error, TelegramUnauthorizedError):
        return Failure(Outcome.UNAUTHORIZED, text)
    if isinstance(error, TelegramBadRequest):
        return _bad_request(error, text)
    if isinstance(error, TelegramEntityTooLarge):
        return Failure(Outcome.QUARANTINE, text)
    if isinstance(error, ClientDecodeError):
        return _undecodable(error, text)
    if isinstance(error, TelegramNetworkError | TelegramAPIError | TimeoutError | OSError):
        # 5xx, 404 from a wrong API URL, timeouts (the message may have gone: a retry can
        # repeat it once), dropped connections.
        return Failure(Outcome.RETRY, text)
    if isinstance(error, SQLAlchemyError):
        return Failure(Outcome.DATABASE, text)
    # A bug of ours while rendering or sending this message: the same every time.
    return Failure(Outcome.QUARANTINE, text)


def _bad_request(error: TelegramBadRequest, text: str) -> Failure:
    message = error.message.lower()
    if "message is not modified" in message:
        return Failure(Outcome.NOT_MODIFIED, text)
    if "message to edit not found" in message or "message can't be edited" in message:
        return Failure(Outcome.GONE, text)
    if any(problem in message for problem in _CHAT_PROBLEMS):
        return Failure(Outcome.CHAT_UNREACHABLE, text)
    return Failure(Outcome.QUARANTINE, text)


def _undecodable(error: ClientDecodeError, text: str) -> Failure:
    """An answer aiogram could not read: a proxy's HTML error page (not sent: retry), or
    a success it could not parse (sent: keep its message id if there is one)."""
    data = error.data
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            return Failure(Outcome.RETRY, text)
    if isinstance(data, dict) and data.get("ok") is True:
        result = data.get("result")
        message_id = result.get("message_id") if isinstance(result, dict) else None
        return Failure(
            Outcome.SENT_UNREADABLE,
            text,
            message_id=message_id if isinstance(message_id, int) else None,
        )
    return Failure(Outcome.RETRY, text)


def _describe(error: BaseException) -> str:
    if isinstance(error, TelegramAPIError):
        return f"{type(error).__name__}: {error.message}"
    if isinstance(error, ClientDecodeError):
        return f"ClientDecodeError: {error.message}"
    detail = str(error).strip().splitlines()
    return f"{type(error).__name__}: {detail[0]}" if detail else type(error).__name__
