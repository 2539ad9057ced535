"""The .ftl texts: both locales in step, every key the code asks for present, loud failures."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import pytest
from fluent.syntax import FluentParser
from fluent.syntax import ast as fluent_ast
from fluent.syntax.visitor import Visitor

import vizteh_bot
from support.fake_objects import EntityParseError, render_html
from vizteh_bot.texts import SUPPORTED_LOCALES, TextError, Translations

PACKAGE = Path(vizteh_bot.__file__).parent
TEXT_FUNCTIONS = {"texts", "Texts", "variants"}
# Keys look like "manager-ticket-closed"; the first word says which part of the bot uses it.
KEY_PATTERN = re.compile(r"^[a-z]+(?:-[a-z0-9]+)+$")


# ------------------------------------------------------------------------ the .ftl side


class _Placeables(Visitor):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.variables: set[str] = set()
        self.references: set[str] = set()

    def visit_VariableReference(self, node: fluent_ast.VariableReference) -> None:
        self.variables.add(node.id.name)

    def visit_MessageReference(self, node: fluent_ast.MessageReference) -> None:
        self.references.add(node.id.name)

    def visit_TermReference(self, node: fluent_ast.TermReference) -> None:
        self.references.add(f"-{node.id.name}")


@dataclass
class Locale:
    name: str
    messages: dict[str, set[str]] = field(default_factory=dict)  # key -> its $variables
    references: dict[str, set[str]] = field(default_factory=dict)
    junk: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    without_value: list[str] = field(default_factory=list)


@cache
def load_locale(name: str) -> Locale:
    source = resources.files("vizteh_bot").joinpath("locales", name, "bot.ftl")
    resource = FluentParser().parse(source.read_text(encoding="utf-8"))
    locale = Locale(name)
    for entry in resource.body:
        if isinstance(entry, fluent_ast.Junk):
            locale.junk.append(entry.content)
        elif isinstance(entry, fluent_ast.Message):
            key = entry.id.name
            if key in locale.messages:
                locale.duplicates.append(key)
            if entry.value is None:
                locale.without_value.append(key)
            visitor = _Placeables()
            visitor.visit(entry)
            locale.messages[key] = visitor.variables
            locale.references[key] = visitor.references
    return locale


def placeables(key: str) -> set[str]:
    return load_locale(SUPPORTED_LOCALES[0]).messages[key]


@pytest.mark.parametrize("name", SUPPORTED_LOCALES)
def test_locale_file_parses_cleanly(name: str) -> None:
    locale = load_locale(name)
    # A lost indent or an unclosed "{" turns an entry into Junk: its key silently vanishes.
    assert locale.junk == []
    assert locale.duplicates == []
    assert locale.without_value == []
    assert locale.messages


def test_both_locales_have_the_same_keys() -> None:
    ru, en = (load_locale(name) for name in ("ru", "en"))
    assert sorted(set(ru.messages) - set(en.messages)) == [], "only in ru"
    assert sorted(set(en.messages) - set(ru.messages)) == [], "only in en"


def test_each_key_has_the_same_placeables_in_both_locales() -> None:
    ru, en = (load_locale(name) for name in ("ru", "en"))
    different = {
        key: (sorted(ru.messages[key]), sorted(en.messages[key]))
        for key in ru.messages.keys() & en.messages.keys()
        if ru.messages[key] != en.messages[key] or ru.references[key] != en.references[key]
    }
    assert different == {}


def test_messages_refer_only_to_existing_messages() -> None:
    for name in SUPPORTED_LOCALES:
        locale = load_locale(name)
        for key, references in locale.references.items():
            assert references <= set(locale.messages), (name, key, references)


# ----------------------------------------------------------------------- the code side


@dataclass(frozen=True)
class KeyUse:
    key: str
    keywords: frozenset[str] | None  # None: the call passes **arguments we cannot see
    where: str
    required_extra: frozenset[str] = frozenset()  # arguments a caller adds elsewhere
    shared: bool = False  # one call for several keys (a table): extra arguments are expected


def _constant_keys(node: ast.expr) -> list[str] | None:
    """The literal keys an argument can evaluate to, or None if it is not literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _constant_keys(node.body), _constant_keys(node.orelse)
        if body is not None and orelse is not None:
            return body + orelse
    return None


def _function_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _key_tables(tree: ast.Module) -> dict[str, list[str]]:
    """Module-level ``*_KEYS = {...: "key"}`` dictionaries: name -> their string values."""
    tables: dict[str, list[str]] = {}
    for node in tree.body:
        targets = [node.target] if isinstance(node, ast.AnnAssign) else []
        if isinstance(node, ast.Assign):
            targets = node.targets
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        for target in targets:
            if (
                isinstance(target, ast.Name)
                and target.id.endswith("_KEYS")
                and isinstance(value, ast.Dict)
            ):
                tables[target.id] = [
                    v.value
                    for v in value.values
                    if isinstance(v, ast.Constant) and isinstance(v.value, str)
                ]
    return tables


@cache
def code_key_uses() -> tuple[KeyUse, ...]:
    uses: list[KeyUse] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        tables = _key_tables(tree)
        relative = path.relative_to(PACKAGE.parent)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            where = f"{relative}:{node.lineno}"
            name = _function_name(node)
            first = node.args[0]
            hidden = any(keyword.arg is None for keyword in node.keywords)
            keywords = None if hidden else frozenset(str(k.arg) for k in node.keywords)
            if name in TEXT_FUNCTIONS:
                keys = _constant_keys(first)
                shared = keys is not None and len(keys) > 1
                if keys is None and isinstance(first, ast.Subscript):
                    table = first.value
                    if isinstance(table, ast.Name) and table.id in tables:
                        keys, shared = tables[table.id], True
                for key in keys or []:
                    passed = None if name == "variants" else keywords
                    uses.append(KeyUse(key, passed, where, shared=shared))
            elif name == "InvalidInput" and (keys := _constant_keys(first)):
                # form.py adds the share-phone button's label for the phone error.
                extra = frozenset({"button"}) if keys == ["error-phone-invalid"] else frozenset()
                uses.extend(KeyUse(key, keywords, where, extra) for key in keys)
        # Keys kept in tuples or lists (e.g. a loop over button keys) are used too.
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and KEY_PATTERN.match(node.value)
                and node.value.split("-")[0] in _key_prefixes()
            ):
                uses.append(KeyUse(node.value, None, f"{relative}:{node.lineno}"))
    return tuple(uses)


@cache
def _key_prefixes() -> frozenset[str]:
    return frozenset(key.split("-")[0] for key in load_locale("ru").messages)


def test_the_scan_finds_the_known_uses() -> None:
    """A guard for the scanner itself: it sees literal, table, IfExp and InvalidInput uses."""
    found = {use.key for use in code_key_uses()}
    assert {
        "menu-greeting",  # texts("…", name=…)
        "manager-ticket-already-closed",  # _ANSWER_KEYS table
        "manager-status-closed",  # _STATUS_KEYS table
        "form-already-sent",  # texts("…" if … else "…")
        "form-button-cancel",  # translations.variants("…")
        "error-name-too-long",  # InvalidInput("…")
        "manager-card-answer",  # a constant passed on
    } <= found
    assert len(found) >= 40


@pytest.mark.parametrize("name", SUPPORTED_LOCALES)
def test_every_key_the_code_uses_exists(name: str) -> None:
    messages = load_locale(name).messages
    missing = sorted({f"{use.key} ({use.where})" for use in code_key_uses()
                      if use.key not in messages})  # fmt: skip
    assert missing == []
    loaded = Translations().for_language(name).keys()
    assert {use.key for use in code_key_uses()} <= loaded


def test_every_call_passes_the_arguments_of_its_text() -> None:
    """A missing argument raises at run time; an extra one on a single-key call is a typo."""
    wrong = []
    for use in code_key_uses():
        if use.keywords is None:
            continue
        needed = placeables(use.key) - use.required_extra
        if not needed <= use.keywords or (not use.shared and use.keywords - needed):
            wrong.append(f"{use.where}: {use.key} gets {sorted(use.keywords)}, "
                         f"needs {sorted(needed)}")  # fmt: skip
    assert wrong == []


# Defined but shown nowhere yet (the client form answers a finished form's buttons with
# error-button-stale and asks nothing when «Изменить» is pressed). Reported, not removed.
KNOWN_UNUSED: set[str] = set()


def test_every_text_is_used_by_the_code() -> None:
    used = {use.key for use in code_key_uses()}
    referenced = {ref for refs in load_locale("ru").references.values() for ref in refs}
    unused = set(load_locale("ru").messages) - used - referenced
    assert unused <= KNOWN_UNUSED, sorted(unused - KNOWN_UNUSED)


# ---------------------------------------------------------------------- formatting rules


def sample_arguments(key: str) -> dict[str, object]:
    return {name: 7 if name in {"number", "count", "limit", "length"} else "x" for name in
            placeables(key)}  # fmt: skip


def test_missing_key_raises() -> None:
    texts = Translations().default
    with pytest.raises(TextError, match="no-such-key"):
        texts("no-such-key")
    with pytest.raises(TextError):
        texts("")


@pytest.mark.parametrize("name", SUPPORTED_LOCALES)
def test_missing_argument_raises_for_every_text_that_has_one(name: str) -> None:
    texts = Translations().for_language(name)
    for key in load_locale(name).messages:
        arguments = sample_arguments(key)
        assert texts(key, **arguments)
        for left_out in arguments:
            partial = {k: v for k, v in arguments.items() if k != left_out}
            with pytest.raises(TextError, match=key):
                texts(key, **partial)


def test_default_texts_are_the_default_locale() -> None:
    translations = Translations()
    assert translations.default.locale == "ru"
    with pytest.raises(TextError):
        translations.default("manager-ticket-closed")
    assert translations.default("manager-ticket-closed", number=3) == "Заявка №3 закрыта"
    assert translations.for_language("en-US").locale == "en"
    assert translations.for_language("EN").locale == "en"
    assert translations.for_language("de").locale == "ru"
    assert translations.for_language(None).locale == "ru"
    assert Translations("en").default.locale == "en"
    with pytest.raises(ValueError, match="de"):
        Translations("de")


@pytest.mark.parametrize("value", [1000, 12345, 1234567, 2**40])
def test_ints_are_not_grouped(value: int) -> None:
    translations = Translations()
    ru, en = translations.for_language("ru"), translations.for_language("en")
    assert ru("manager-ticket-closed", number=value) == f"Заявка №{value} закрыта"
    assert en("manager-ticket-closed", number=value) == f"Request #{value} closed"
    assert f"Открытых заявок: {value}." in ru("manager-mode", open_count=value)
    assert f"не больше {value}." in ru("error-number-too-large", limit=value)


@pytest.mark.parametrize("name", SUPPORTED_LOCALES)
def test_no_bidi_isolation_marks(name: str) -> None:
    texts = Translations().for_language(name)
    for key in load_locale(name).messages:
        rendered = texts(key, **sample_arguments(key))
        assert not {"\u2068", "\u2069"} & set(rendered), key


@pytest.mark.parametrize("name", SUPPORTED_LOCALES)
def test_every_text_is_valid_telegram_html(name: str) -> None:
    texts = Translations().for_language(name)
    broken = {}
    for key in load_locale(name).messages:
        rendered = texts(key, **sample_arguments(key))
        try:
            visible = render_html(rendered)
        except EntityParseError as error:
            broken[key] = str(error)
            continue
        assert visible.strip(), key
    assert broken == {}


# Texts shown as callback query answers, which Telegram caps at 200 characters.
ANSWER_KEYS = (
    "error-not-manager",
    "error-button-stale",
    "error-ticket-not-found",
    "error-internal",
    "error-too-many-tickets",
    "form-sending",
    "form-already-sent",
    "manager-ticket-closed",
    "manager-ticket-reopened",
    "manager-ticket-already-closed",
    "manager-ticket-already-open",
)


@pytest.mark.parametrize("name", SUPPORTED_LOCALES)
def test_button_labels_and_answers_fit_telegram_limits(name: str) -> None:
    texts = Translations().for_language(name)
    for key in load_locale(name).messages:
        if "-button-" in key:
            assert "\n" not in texts(key, **sample_arguments(key)), key
    for key in ANSWER_KEYS:
        arguments = {**sample_arguments(key), "number": 2**63 - 1, "count": 10**6}
        assert len(render_html(texts(key, **arguments))) <= 200, key
    assert len(render_html(texts("about-text"))) <= 1024
