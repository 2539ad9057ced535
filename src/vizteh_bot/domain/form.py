"""The request form: its fields, in order, and the rule each answer must follow.

A form comes from a file (forms/loader.py); here it is plain data, no Telegram and no TOML.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vizteh_bot.domain import input as rules

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping


class FieldType(enum.StrEnum):
    TEXT = "text"
    PHONE = "phone"
    EMAIL = "email"
    CHOICE = "choice"
    NUMBER = "number"


# Where a name and a phone are kept in their own columns (search, anti-spam): the field
# with this id, or else the first field of the phone type.
NAME_FIELD = "name"
TEXT_FIELD = "text"


@dataclass(frozen=True, slots=True)
class FormField:
    id: str
    type: FieldType
    # Language code → text; the default locale is always present.
    questions: Mapping[str, str]
    labels: Mapping[str, str]
    required: bool = True
    options: tuple[str, ...] = ()
    min_length: int | None = None
    max_length: int | None = None
    min: float | None = None
    max: float | None = None
    # Whether the answer keeps its line breaks (a description) or is one line (a name).
    multiline: bool = True
    default_locale: str = "ru"

    def question(self, locale: str) -> str:
        return self.questions.get(locale) or self.questions[self.default_locale]

    def label(self, locale: str) -> str:
        return self.labels.get(locale) or self.labels[self.default_locale]

    @property
    def longest(self) -> int:
        """The longest answer this field accepts, in characters."""
        if self.type is FieldType.TEXT:
            return self.max_length or rules.TEXT_MAX_LENGTH
        if self.type is FieldType.CHOICE:
            return max(len(option) for option in self.options)
        return rules.SHORT_ANSWER_MAX_LENGTH

    def clean(self, raw: str) -> str:
        """The answer as stored, or InvalidInput saying what is wrong with it."""
        if self.type is FieldType.PHONE:
            return rules.clean_phone(raw)
        if self.type is FieldType.EMAIL:
            return rules.clean_email(raw)
        if self.type is FieldType.NUMBER:
            return rules.clean_number(raw, self.min, self.max)
        if self.type is FieldType.CHOICE:
            return rules.clean_choice(raw, self.options)
        return rules.clean_answer(
            raw,
            min_length=self.min_length or 1,
            max_length=self.max_length or rules.TEXT_MAX_LENGTH,
            multiline=self.multiline,
        )


@dataclass(frozen=True, slots=True)
class Form:
    fields: tuple[FormField, ...]
    # Where the form came from, for logs and messages ("the default form" or a path).
    source: str = "the default form"
    by_id: Mapping[str, FormField] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {f.id: f for f in self.fields})

    def __iter__(self) -> Iterator[FormField]:
        return iter(self.fields)

    @property
    def first(self) -> FormField:
        return self.fields[0]

    def after(self, field_id: str) -> FormField | None:
        """The field asked after `field_id`; None when it is the last."""
        ids = [f.id for f in self.fields]
        index = ids.index(field_id) + 1 if field_id in ids else 0
        return self.fields[index] if index < len(self.fields) else None

    def before(self, field_id: str) -> FormField | None:
        """The field asked before `field_id`; None when it is the first."""
        ids = [f.id for f in self.fields]
        if field_id not in ids:
            return self.fields[-1]
        index = ids.index(field_id)
        return self.fields[index - 1] if index > 0 else None

    @property
    def name_field(self) -> FormField | None:
        return self.by_id.get(NAME_FIELD)

    @property
    def phone_field(self) -> FormField | None:
        return next((f for f in self.fields if f.type is FieldType.PHONE), None)

    @property
    def main_text_field(self) -> FormField | None:
        """The field whose answer is the request's text: `text`, or the longest text field
        that keeps line breaks (a one-line answer is a detail, not a request)."""
        if (text := self.by_id.get(TEXT_FIELD)) is not None and text.type is FieldType.TEXT:
            return text
        texts = [
            f
            for f in self.fields
            if f.type is FieldType.TEXT and f.multiline and f is not self.name_field
        ]
        return max(reversed(texts), key=lambda f: f.longest, default=None)

    def first_missing(self, answers: Mapping[str, str | None]) -> FormField | None:
        """The first required field without an answer, or whose answer no longer fits it
        (the form file changed while the client was filling it in)."""
        for item in self.fields:
            value = answers.get(item.id)
            if value is None:
                if item.required or item.id not in answers:
                    return item
                continue
            try:
                item.clean(value)
            except rules.InvalidInput:
                return item
        return None
