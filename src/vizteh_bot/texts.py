"""User-visible texts from `locales/<lang>/bot.ftl`; a missing key or argument raises.

Arguments never pass through Fluent as themselves: fluent.runtime refuses any placeable
over 2 500 characters, and a request text of 2 000 characters is 10 000 once its `&` are
escaped. Each string argument enters the pattern as a short marker, and the markers are
replaced by the values in one pass afterwards, so a value is never read as a marker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

from fluent.runtime import FluentBundle, FluentResource
from fluent.runtime.types import fluent_number

if TYPE_CHECKING:
    from collections.abc import Iterable

SUPPORTED_LOCALES = ("ru", "en")


class TextError(LookupError):
    """A text key or one of its arguments is missing: a bug, never a user's fault."""


@dataclass(frozen=True, slots=True)
class Texts:
    """The texts of one language."""

    locale: str
    _bundle: FluentBundle
    # Texts without arguments, formatted once: most of what the bot says.
    _formatted: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def __call__(self, key: str, **args: Any) -> str:
        if not args and key in self._formatted:
            return self._formatted[key]
        message = self._bundle.get_message(key) if self._bundle.has_message(key) else None
        if message is None or message.value is None:
            raise TextError(f"no text {key!r} in locale {self.locale!r}")
        fluent_args, values = _with_markers(args)
        value, errors = self._bundle.format_pattern(message.value, fluent_args)
        if errors:
            raise TextError(f"text {key!r} in locale {self.locale!r}: {errors[0]}")
        if not args:
            self._formatted[key] = str(value)
            return str(value)
        return _MARKER.sub(lambda match: values[int(match.group(1))], str(value))

    def has(self, key: str) -> bool:
        return bool(self._bundle.has_message(key))

    def keys(self) -> set[str]:
        return set(self._bundle._messages)


class Translations:
    """All locales; picks the client's language, falling back to the default."""

    def __init__(self, default_locale: str = "ru", locales: Iterable[str] = SUPPORTED_LOCALES):
        self._by_locale = {locale: _load(locale) for locale in locales}
        if default_locale not in self._by_locale:
            raise ValueError(f"no locale {default_locale!r}")
        self.default = self._by_locale[default_locale]

    def for_language(self, language_code: str | None) -> Texts:
        if language_code:
            return self._by_locale.get(language_code.split("-")[0].lower(), self.default)
        return self.default

    def all(self) -> list[Texts]:
        return list(self._by_locale.values())

    def variants(self, key: str) -> frozenset[str]:
        """The same text in every language, to recognise a reply-keyboard button."""
        return frozenset(texts(key) for texts in self._by_locale.values())


# NUL never occurs in a locale file, so a marker cannot be confused with the text around it.
_MARKER = re.compile("\x00([0-9]+)\x00")


def _with_markers(args: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Numbers stay numbers (plural rules need them); every other value becomes a marker."""
    fluent_args: dict[str, Any] = {}
    values: list[str] = []
    for name, value in args.items():
        if isinstance(value, int) and not isinstance(value, bool):
            # Ungrouped: ticket numbers and counts read better as "1234" than "1 234".
            fluent_args[name] = fluent_number(value, useGrouping=False)
        else:
            fluent_args[name] = f"\x00{len(values)}\x00"
            values.append(str(value))
    return fluent_args, values


def _load(locale: str) -> Texts:
    source = resources.files("vizteh_bot").joinpath("locales", locale, "bot.ftl")
    bundle = FluentBundle([locale], use_isolating=False)
    bundle.add_resource(FluentResource(source.read_text(encoding="utf-8")))
    return Texts(locale, bundle)
