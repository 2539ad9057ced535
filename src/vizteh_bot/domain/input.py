"""The rules for the client's answers: each cleaned, checked, or refused with a reason."""

from __future__ import annotations

import re
import unicodedata

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


# Control characters (but tab and newline) and lone surrogates: PostgreSQL refuses U+0000
# in text, Telegram and terminals show the others as garbage or not at all.
_REFUSED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAKS = re.compile("\r\n?|[\u2028\u2029]")


def clean_input(raw: str) -> str:
    """What a backend and Telegram accept of `raw`: line breaks made plain, controls gone."""
    return _REFUSED.sub("", _LINE_BREAKS.sub("\n", raw))


def has_visible(text: str) -> bool:
    """Whether a reader sees anything: a letter, digit, punctuation mark or symbol (emoji
    included), not only spaces, zero-width or combining characters."""
    return any(unicodedata.category(char)[0] in "LNPS" for char in text)


def clean_name(raw: str) -> str:
    name = " ".join(clean_input(raw).split())
    if not has_visible(name):
        raise InvalidInput("error-name-empty")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput("error-name-too-long", limit=NAME_MAX_LENGTH, length=len(name))
    return name


def clean_phone(raw: str, region: str = DEFAULT_PHONE_REGION) -> str:
    """The phone in E.164 (`+79161234567`), or InvalidInput."""
    candidate = clean_input(raw).strip()
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
    text = clean_input(raw).strip()
    if not has_visible(text):
        raise InvalidInput("error-text-empty")
    if len(text) > TEXT_MAX_LENGTH:
        raise InvalidInput("error-text-too-long", limit=TEXT_MAX_LENGTH, length=len(text))
    return text
