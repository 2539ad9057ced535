"""Reading a form file: every mistake in it is one line naming the file, the field and what
to change, raised before the bot starts."""

from __future__ import annotations

import functools
import math
import re
import tomllib
from importlib import resources
from typing import TYPE_CHECKING, Any

from vizteh_bot.domain.form import FieldType, Form, FormField
from vizteh_bot.domain.input import TEXT_MAX_LENGTH, has_visible
from vizteh_bot.forms.markup import MarkupError, check_markup, plain_text
from vizteh_bot.telegram.render.fit import utf16_len
from vizteh_bot.texts import SUPPORTED_LOCALES, Translations

if TYPE_CHECKING:
    from pathlib import Path

MAX_FIELDS = 30
MAX_QUESTION_LENGTH = 3000
MAX_LABEL_LENGTH = 48
MAX_OPTIONS = 20
MAX_OPTION_LENGTH = 60
# Room in one Telegram message for the answer and what is shown around it.
MAX_TEXT_LENGTH = 3500
_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_KEYS = {
    "id", "type", "question", "label", "required", "options",
    "min_length", "max_length", "min", "max", "multiline",
}  # fmt: skip
_KEYS_OF_TYPE = {
    FieldType.TEXT: {"min_length", "max_length", "multiline"},
    FieldType.CHOICE: {"options"},
    FieldType.NUMBER: {"min", "max"},
}
_TYPES = ", ".join(t.value for t in FieldType)


class FormFileError(ValueError):
    """A form file the bot cannot use; the message is one line saying what to fix."""


def load_form(path: Path | None, default_locale: str = "ru") -> Form:
    """The form in `path`, or the packaged default form when `path` is None."""
    if path is None:
        text = resources.files("vizteh_bot.forms").joinpath("default.toml").read_text("utf-8")
        return parse_form(text, "the default form", default_locale)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise FormFileError(f"FORM_FILE {path}: no such file") from None
    except IsADirectoryError:
        raise FormFileError(f"FORM_FILE {path}: is a folder, not a file") from None
    except UnicodeDecodeError:
        raise FormFileError(f"FORM_FILE {path}: not UTF-8 text; save it as UTF-8") from None
    except OSError as error:
        raise FormFileError(f"FORM_FILE {path}: cannot be read ({error.strerror})") from None
    return parse_form(text, f"FORM_FILE {path}", default_locale)


def parse_form(text: str, source: str, default_locale: str = "ru") -> Form:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise FormFileError(f"{source}: not valid TOML: {error}") from None
    unknown = set(document) - {"fields"}
    if unknown:
        raise FormFileError(
            f"{source}: unknown key {_names(unknown)} at the top; only [[fields]] belong there"
        )
    raw_fields = document.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        raise FormFileError(f"{source}: no questions; add at least one [[fields]] table")
    if len(raw_fields) > MAX_FIELDS:
        raise FormFileError(f"{source}: {len(raw_fields)} fields, at most {MAX_FIELDS} allowed")
    fields: list[FormField] = []
    for number, raw in enumerate(raw_fields, start=1):
        where = f"{source}: field {number}"
        if not isinstance(raw, dict):
            raise FormFileError(f"{where}: must be a [[fields]] table")
        if isinstance(raw.get("id"), str):
            where += f" ({raw['id']})"
        item = _field(raw, where, default_locale)
        if any(f.id == item.id for f in fields):
            raise FormFileError(f"{where}: the id {item.id!r} is used by an earlier field")
        for locale, label in item.labels.items():
            if any(f.labels.get(locale) == label for f in fields):
                raise FormFileError(
                    f"{where}: the label {label!r} is used by an earlier field; "
                    "a client could not tell the two apart"
                )
        fields.append(item)
    if not any(f.required for f in fields):
        raise FormFileError(f"{source}: every field is optional; make at least one required")
    return Form(tuple(fields), source=source)


def _field(raw: dict[str, Any], where: str, default_locale: str) -> FormField:
    unknown = set(raw) - _KEYS
    if unknown:
        raise FormFileError(f"{where}: unknown key {_names(unknown)}; known: {_names(_KEYS)}")
    field_id = raw.get("id")
    if not isinstance(field_id, str) or not _ID.match(field_id):
        raise FormFileError(
            f'{where}: id must be a short name of latin letters, digits and _, e.g. "budget"'
        )
    kind = raw.get("type")
    try:
        field_type = FieldType(str(kind))
    except ValueError:
        raise FormFileError(f"{where}: unknown type {kind!r}; expected {_TYPES}") from None
    misplaced = (set(raw) & set().union(*_KEYS_OF_TYPE.values())) - _KEYS_OF_TYPE.get(
        field_type, set()
    )
    if misplaced:
        raise FormFileError(f"{where}: {_names(misplaced)} does not apply to type {kind!r}")
    questions = _localized(raw.get("question"), "question", where, default_locale)
    for locale, question in questions.items():
        # As Telegram counts: an emoji is two.
        if utf16_len(question) > MAX_QUESTION_LENGTH:
            raise FormFileError(
                f"{where}: question.{locale} is {utf16_len(question)} characters long as "
                f"Telegram counts them (an emoji is 2), at most {MAX_QUESTION_LENGTH}"
            )
        try:
            check_markup(question)
        except MarkupError as error:
            raise FormFileError(f"{where}: question.{locale}: {error}") from None
        if not has_visible(plain_text(question)):
            raise FormFileError(f"{where}: question.{locale} shows no text once its tags are off")
    if "label" in raw:
        labels = _localized(raw["label"], "label", where, default_locale)
    else:
        labels = {locale: _derived_label(q) for locale, q in questions.items()}
        if not all(labels.values()):
            raise FormFileError(
                f'{where}: no label can be made from the question; add label = "…"'
            )
    for locale, label in labels.items():
        if len(label) > MAX_LABEL_LENGTH:
            raise FormFileError(
                f"{where}: label.{locale} is {len(label)} characters, at most {MAX_LABEL_LENGTH}"
            )
    required = raw.get("required", True)
    if not isinstance(required, bool):
        raise FormFileError(f"{where}: required must be true or false")
    multiline = raw.get("multiline", True)
    if not isinstance(multiline, bool):
        raise FormFileError(f"{where}: multiline must be true or false")
    options = _options(raw, field_type, where)
    min_length = _whole(raw, "min_length", where, 1, MAX_TEXT_LENGTH)
    max_length = _whole(raw, "max_length", where, 1, MAX_TEXT_LENGTH)
    if min_length is not None and min_length > (max_length or TEXT_MAX_LENGTH):
        raise FormFileError(
            f"{where}: min_length {min_length} is above max_length "
            f"{max_length or TEXT_MAX_LENGTH}" + ("" if max_length else " (the default)")
        )
    least, most = _bound(raw, "min", where), _bound(raw, "max", where)
    if least is not None and most is not None and least > most:
        raise FormFileError(f"{where}: min {least:g} is above max {most:g}")
    return FormField(
        id=field_id,
        type=field_type,
        questions=questions,
        labels=labels,
        required=required,
        options=options,
        min_length=min_length,
        max_length=max_length,
        min=least,
        max=most,
        multiline=multiline,
        default_locale=default_locale,
    )


def _localized(value: object, key: str, where: str, default_locale: str) -> dict[str, str]:
    if isinstance(value, str):
        value = {default_locale: value}
    if not isinstance(value, dict):
        raise FormFileError(
            f'{where}: {key} must be text, or a table of languages ({key}.ru = "…")'
        )
    unknown = set(value) - set(SUPPORTED_LOCALES)
    if unknown:
        raise FormFileError(
            f"{where}: {key} in unknown language {_names(unknown)}; "
            f"the bot speaks {', '.join(SUPPORTED_LOCALES)}"
        )
    texts: dict[str, str] = {}
    for locale, text in value.items():
        if not isinstance(text, str) or not text.strip():
            raise FormFileError(f"{where}: {key}.{locale} must be non-empty text")
        texts[locale] = text.strip()
    if default_locale not in texts:
        raise FormFileError(
            f"{where}: {key} has no text in {default_locale} (DEFAULT_LOCALE); "
            f'add {key}.{default_locale} = "…"'
        )
    return texts


def _options(raw: dict[str, Any], field_type: FieldType, where: str) -> tuple[str, ...]:
    if field_type is not FieldType.CHOICE:
        return ()
    options = raw.get("options")
    if not isinstance(options, list) or not options:
        raise FormFileError(f'{where}: a choice needs options = ["…", "…"]')
    if len(options) > MAX_OPTIONS:
        raise FormFileError(f"{where}: {len(options)} options, at most {MAX_OPTIONS}")
    cleaned: list[str] = []
    for option in options:
        if not isinstance(option, str) or not option.strip():
            raise FormFileError(f"{where}: every option must be non-empty text")
        text = " ".join(option.split())
        if len(text) > MAX_OPTION_LENGTH:
            raise FormFileError(
                f"{where}: option {text[:20]!r}… is {len(text)} characters, "
                f"at most {MAX_OPTION_LENGTH} (it is a button)"
            )
        if text.casefold() in {c.casefold() for c in cleaned}:
            raise FormFileError(f"{where}: option {text!r} is listed twice")
        if text in _navigation_buttons():
            raise FormFileError(
                f"{where}: option {text!r} is the text of the bot's own button; choose another"
            )
        cleaned.append(text)
    return tuple(cleaned)


@functools.cache
def _navigation_buttons() -> frozenset[str]:
    """What a typed option must not be: the form's own buttons, which win over an answer."""
    translations = Translations()
    keys = ("form-button-back", "form-button-cancel", "form-button-skip")
    return frozenset().union(*(translations.variants(key) for key in keys))


def _whole(raw: dict[str, Any], key: str, where: str, least: int, most: int) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
        raise FormFileError(f"{where}: {key} must be a whole number from {least} to {most}")
    return value


def _bound(raw: dict[str, Any], key: str, where: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FormFileError(f"{where}: {key} must be a number")
    if abs(value) >= 1e15:
        raise FormFileError(f"{where}: {key} must be below a million billion")
    return float(value)


def _derived_label(question: str) -> str:
    """The question's first line with text in it, without its final "?", ":" or "…"."""
    lines = [line.strip() for line in plain_text(question).splitlines()]
    line = next((line for line in lines if line.strip("?:.!… \u00a0")), "")
    line = line.rstrip("?:.!… \u00a0")
    if len(line) <= MAX_LABEL_LENGTH:
        return line
    return line[: MAX_LABEL_LENGTH - 1].rstrip() + "…"


def _names(keys: set[str] | set[Any]) -> str:
    return ", ".join(repr(str(key)) for key in sorted(keys, key=str))
