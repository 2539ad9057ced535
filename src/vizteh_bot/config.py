"""Settings read once from the environment and `.env`; names are the seed's public contract."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

TOKEN_PATTERN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")
DEFAULT_API_URL = "https://api.telegram.org"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    token: SecretStr
    manager_chat_id: int
    photo_id: str | None = None
    # A TOML file with the request form's questions; unset: the packaged default form.
    form_file: Path | None = None

    db_host: str | None = None
    db_port: int = Field(default=5432, ge=1, le=65535)
    db_name: str = "vizteh"
    db_user: str = "vizteh"
    db_password: SecretStr = SecretStr("")
    sqlite_path: Path = Path("vizteh.sqlite3")
    # Seconds a start waits for a PostgreSQL server that does not answer yet (one systemd or
    # docker compose starts at the same time) before it gives up with exit code 1.
    db_wait_seconds: float = Field(default=30.0, ge=0)

    telegram_api_url: str = DEFAULT_API_URL
    timezone: str = "Europe/Moscow"
    default_locale: str = "ru"
    log_level: str = "INFO"

    tickets_per_hour: int = Field(default=5, ge=1)
    # How a manager's reply is signed for the client: `name` (the manager's first name and
    # the company), `company` (the company only) or `none`.
    reply_signature: Literal["name", "company", "none"] = "name"
    # Tell the client when their request is closed or opened again.
    notify_client_on_status: bool = True
    # Seconds the bot waits for Telegram to answer one request before retrying it.
    telegram_timeout: float = Field(default=10.0, gt=0)
    # Only for a fake Bot API whose clock runs faster (tests): divides the outbox's pacing
    # and retry delays. Telegram's own clock is 1.
    pace_time_scale: float = Field(default=1.0, gt=0)

    @field_validator("token")
    @classmethod
    def _token_looks_like_a_bot_token(cls, value: SecretStr) -> SecretStr:
        if not TOKEN_PATTERN.match(value.get_secret_value().strip()):
            raise ValueError("does not look like a bot token from @BotFather (digits:letters)")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("manager_chat_id")
    @classmethod
    def _manager_chat_id_not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("must be a chat id such as 123456789 or -1001234567890")
        return value

    @field_validator("reply_signature", mode="before")
    @classmethod
    def _signature_any_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("photo_id", "db_host", "form_file", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        # A region such as "Europe" is a directory of the zone database: OSError, not NotFound.
        except (ZoneInfoNotFoundError, ValueError, OSError) as error:
            raise ValueError(
                f"unknown time zone {value!r}, expected e.g. Europe/Moscow"
            ) from error
        return value

    @field_validator("default_locale")
    @classmethod
    def _supported_locale(cls, value: str) -> str:
        from vizteh_bot.texts import SUPPORTED_LOCALES

        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return value.upper()

    @field_validator("telegram_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @property
    def uses_postgres(self) -> bool:
        return self.db_host is not None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def database_url(self) -> str:
        """SQLAlchemy URL: PostgreSQL via asyncpg when DB_HOST is set, else the SQLite file."""
        if self.db_host is None:
            return f"sqlite+aiosqlite:///{self.sqlite_path}"
        from sqlalchemy.engine import URL

        return URL.create(
            "postgresql+asyncpg",
            username=self.db_user,
            password=self.db_password.get_secret_value() or None,
            host=self.db_host,
            port=self.db_port,
            database=self.db_name,
        ).render_as_string(hide_password=False)


def describe_errors(error: ValidationError) -> list[str]:
    """One human line per bad variable, named as the user spells it in `.env`."""
    lines = []
    for item in error.errors():
        name = str(item["loc"][0]).upper() if item["loc"] else "settings"
        if item["type"] == "missing":
            lines.append(f"{name} is not set")
        else:
            message = str(item["msg"]).removeprefix("Value error, ")
            lines.append(f"{name} is invalid: {message}")
    return lines
