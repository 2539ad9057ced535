"""The form file: can the bot read it, and how will its questions look to a client?"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vizteh_bot.checks.findings import failed, ok
from vizteh_bot.domain.form import FieldType
from vizteh_bot.forms.loader import FormFileError, load_form
from vizteh_bot.forms.markup import plain_text

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from vizteh_bot.checks.findings import Finding
    from vizteh_bot.domain.form import Form, FormField

SUBJECT = "FORM_FILE"


def check_form(path: Path | None, default_locale: str) -> tuple[Finding, Form | None]:
    try:
        form = load_form(path, default_locale)
    except FormFileError as error:
        # The loader's line names FORM_FILE itself: the subject says it already.
        return failed(SUBJECT, str(error).removeprefix(f"{SUBJECT} ")), None
    count = f"{len(form.fields)} questions"
    if path is None:
        return ok(SUBJECT, f"not set: the default form, {count}"), form
    return ok(SUBJECT, f"{path}: {count}"), form


def preview_lines(form: Form, locales: Iterable[str]) -> list[str]:
    """Each question as a client with that language sees it, with the rule its answer follows."""
    lines = [f"The form ({form.source}), as clients see it:"]
    for locale in locales:
        lines.append(f"[{locale}]")
        for number, field in enumerate(form.fields, start=1):
            lines.append(f"  {number}. {field.label(locale)} ({_rule(field)})")
            if locale not in field.questions:
                lines.append(f"     (no {locale} text: shown in {field.default_locale})")
            lines.extend(
                f"     {line}" for line in plain_text(field.question(locale)).splitlines()
            )
            if field.options:
                lines.append("     buttons: " + " | ".join(field.options))
    return lines


def _rule(field: FormField) -> str:
    parts = [field.type.value, "required" if field.required else "optional"]
    if field.type is FieldType.TEXT:
        least = f"{field.min_length}–" if field.min_length else "up to "
        parts.append(f"{least}{field.longest} characters")
        if not field.multiline:
            parts.append("one line")
    if field.type is FieldType.NUMBER and (field.min is not None or field.max is not None):
        if field.min is not None and field.max is not None:
            parts.append(f"from {_number(field.min)} to {_number(field.max)}")
        elif field.min is not None:
            parts.append(f"at least {_number(field.min)}")
        else:
            parts.append(f"at most {_number(field.max)}")
    if field.type is FieldType.CHOICE:
        parts.append(f"{len(field.options)} options")
    return ", ".join(parts)


def _number(value: float | None) -> str:
    assert value is not None
    return str(int(value)) if value.is_integer() else f"{value:g}"
