"""The rules for the client's answers: each cleaned, checked, or refused with a reason."""

from __future__ import annotations

import phonenumbers

NAME_MAX_LENGTH = 100
TEXT_MAX_LENGTH = 2000
DEFAULT_PHONE_REGION = "RU"


class InvalidInput(ValueError):
    """The client's answer is not acceptable; `key` names the text that explains why."""

    def __init__(self, key: str, **args: object) -> None:
        super().__init__(key)
        self.key = key
        self.args_for_text = args


def clean_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name:
        raise InvalidInput("error-name-empty")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput("error-name-too-long", limit=NAME_MAX_LENGTH, length=len(name))
    return name


def clean_phone(raw: str, region: str = DEFAULT_PHONE_REGION) -> str:
    """The phone in E.164 (`+79161234567`), or InvalidInput."""
    candidate = raw.strip()
    if not candidate or len(candidate) > 40:
        raise InvalidInput("error-phone-invalid")
    # A shared contact often arrives without "+", e.g. "79161234567".
    if candidate[0].isdigit() and len(candidate) > 10 and not candidate.startswith("8"):
        candidate = "+" + candidate
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException as error:
        raise InvalidInput("error-phone-invalid") from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput("error-phone-invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_text(raw: str) -> str:
    text = raw.strip()
    if not text:
        raise InvalidInput("error-text-empty")
    if len(text) > TEXT_MAX_LENGTH:
        raise InvalidInput("error-text-too-long", limit=TEXT_MAX_LENGTH, length=len(text))
    return text
