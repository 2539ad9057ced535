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


# A phone, an e-mail address or a number is never longer than this.
SHORT_ANSWER_MAX_LENGTH = 254
_NUMBER_SPACES = re.compile(r"[\s\u00a0\u2009\u202f'_]")


def clean_answer(raw: str, *, min_length: int, max_length: int, multiline: bool = True) -> str:
    """A free-text answer: trimmed (one line unless `multiline`), within its lengths."""
    cleaned = clean_input(raw)
    answer = cleaned.strip() if multiline else " ".join(cleaned.split())
    if not has_visible(answer):
        raise InvalidInput("error-answer-empty")
    if len(answer) > max_length:
        raise InvalidInput("error-answer-too-long", limit=max_length, length=len(answer))
    if len(answer) < min_length:
        raise InvalidInput("error-answer-too-short", limit=min_length, length=len(answer))
    return answer


def clean_email(raw: str) -> str:
    """The address as its owner wrote it, with the domain normalised; no DNS lookups."""
    from email_validator import EmailNotValidError, validate_email

    candidate = clean_input(raw).strip()
    if not candidate or len(candidate) > SHORT_ANSWER_MAX_LENGTH:
        raise InvalidInput("error-email-invalid")
    try:
        return validate_email(candidate, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise InvalidInput("error-email-invalid") from error


def clean_number(raw: str, least: float | None = None, most: float | None = None) -> str:
    """A number written as people write them ("150 000", "12,5"), kept in plain digits."""
    from decimal import Decimal, InvalidOperation

    candidate = _NUMBER_SPACES.sub("", clean_input(raw)).replace(",", ".")
    if not candidate or len(candidate) > 40 or not re.fullmatch(r"[-+]?\d*\.?\d+", candidate):
        raise InvalidInput("error-number-invalid")
    try:
        number = Decimal(candidate)
    except InvalidOperation as error:
        raise InvalidInput("error-number-invalid") from error
    if least is not None and number < Decimal(str(least)):
        raise InvalidInput("error-number-too-small", limit=format_number(least))
    if most is not None and number > Decimal(str(most)):
        raise InvalidInput("error-number-too-large", limit=format_number(most))
    plain = format(number.normalize(), "f")
    return "0" if plain in ("-0", "+0") else plain


def format_number(value: float) -> str:
    """`50000.0` as "50000", `12.5` as "12.5": how a limit is written in a message."""
    return str(int(value)) if float(value).is_integer() else str(value)


def clean_choice(raw: str, options: tuple[str, ...]) -> str:
    """One of `options`, typed exactly as it is written (spaces around it aside)."""
    typed = clean_input(raw).strip()
    if typed in options:
        return typed
    raise InvalidInput("error-choice-invalid")
