"""The forms the tests drive: the packaged default and the example form of the README."""

from __future__ import annotations

from pathlib import Path

from vizteh_bot.domain.form import Form
from vizteh_bot.forms.loader import load_form

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_FORM_FILE = ROOT / "examples" / "form-web-studio.toml"
DEFAULT_FORM = load_form(None)
EXAMPLE_FORM = load_form(EXAMPLE_FORM_FILE)


def question(field_id: str, locale: str = "ru", form: Form = DEFAULT_FORM) -> str:
    """A field's question exactly as the bot sends it."""
    return form.by_id[field_id].question(locale)


def default_answers(name: str, phone: str, text: str) -> dict[str, str | None]:
    """The answers of the default form, as its handlers store them."""
    return {"name": name, "phone": phone, "text": text}
