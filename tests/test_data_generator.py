"""The shared request data: realistic, deterministic, and always accepted by the form."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
import pytest
from hypothesis import given, settings

from support.data import (
    Request,
    RequestFactory,
    hostile_texts,
    names,
    phones,
    requests,
    texts,
)
from support.data_edges import HOSTILE, ZERO_WIDTH
from support.fake_objects import utf16_len
from vizteh_bot.domain.input import (
    NAME_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    clean_name,
    clean_phone,
    clean_text,
)

SAMPLE = 1000
# No example database: these runs must leave nothing behind in the tree.
PROPERTIES = settings(max_examples=200, database=None, deadline=None)
PHONE_FORMATS = (
    r"\+7 9\d\d \d{3}-\d\d-\d\d", r"89\d{9}", r"8 \(9\d\d\) \d{3} \d\d \d\d", r"\+79\d{9}",
    r"7-9\d\d-\d{3}-\d\d-\d\d", r"\+44 [\d ]+", r"\+1[\d -]+",
)  # fmt: skip
_LETTER_RUN = re.compile(r"[^\W\d_]+")


def _squash(value: str) -> str:
    return "".join(value.split())


def _is_rtl(c: str) -> bool:
    return unicodedata.bidirectional(c) in ("R", "AL")


def _mixes_scripts(text: str) -> bool:
    """A word with both Cyrillic and Latin letters, like "Cбербанк" with a Latin C."""
    for word in _LETTER_RUN.findall(text):
        scripts = {unicodedata.name(c, "").split()[0] for c in word}
        if {"CYRILLIC", "LATIN"} <= scripts:
            return True
    return False


def _accepted(request: Request) -> Request:
    """The request cleaned by the form, which must only have touched whitespace."""
    cleaned = request.cleaned()
    assert _squash(cleaned.name) == _squash(request.name)
    assert _squash(cleaned.text) == _squash(request.text)
    assert phonenumbers.is_valid_number(phonenumbers.parse(request.phone, "RU"))
    return cleaned


@pytest.fixture(scope="module")
def sample() -> list[Request]:
    return RequestFactory(seed=0).requests(SAMPLE)


def test_the_factory_is_deterministic_per_seed() -> None:
    assert RequestFactory(7).requests(100) == RequestFactory(7).requests(100)
    assert RequestFactory(7).requests(100) != RequestFactory(8).requests(100)


def test_every_request_passes_the_form(sample: list[Request]) -> None:
    for request in sample:
        cleaned = _accepted(request)
        assert 1 <= len(cleaned.name) <= len(request.name) <= NAME_MAX_LENGTH
        assert 1 <= len(cleaned.text) <= len(request.text) <= TEXT_MAX_LENGTH
        assert request.language in ("ru", "en")


def test_the_lengths_reach_each_limit(sample: list[Request]) -> None:
    name_lengths = [len(r.cleaned().name) for r in sample]
    text_lengths = [len(r.cleaned().text) for r in sample]
    assert sum(2 <= n <= 40 for n in name_lengths) >= 0.85 * SAMPLE
    assert {1, NAME_MAX_LENGTH} <= set(name_lengths)
    assert {1, TEXT_MAX_LENGTH} <= set(text_lengths)
    assert sum(100 <= n <= 600 for n in text_lengths) >= 0.55 * SAMPLE
    assert sum(n >= 1000 for n in text_lengths) >= 0.12 * SAMPLE
    assert sum(n == TEXT_MAX_LENGTH for n in text_lengths) >= 0.03 * SAMPLE
    assert max(utf16_len(r.text) for r in sample) == 2 * TEXT_MAX_LENGTH


def test_the_content_looks_like_a_real_intake(sample: list[Request]) -> None:
    russian = sum(r.language == "ru" for r in sample)
    assert 0.75 * SAMPLE <= russian <= 0.85 * SAMPLE
    every_text = [r.text for r in sample]
    for marker in ("«", "₽", "http", "@", "\n", "1) ", "<b>", "&", "[", "\U0001f1f7\U0001f1fa"):
        assert sum(marker in text for text in every_text) >= 0.01 * SAMPLE, marker
    every_name = [r.name for r in sample]
    for marker in ("-", "'", "ООО", "\u200d"):
        assert any(marker in name for name in every_name), marker
    assert sum(len(name.split()) == 3 for name in every_name) >= 0.05 * SAMPLE
    every_phone = [r.phone for r in sample]
    for pattern in PHONE_FORMATS:
        assert any(re.fullmatch(pattern, phone) for phone in every_phone), pattern


def test_the_edge_cases_appear(sample: list[Request]) -> None:
    edges = {
        "emoji wall": lambda r: len(r.text) == TEXT_MAX_LENGTH == utf16_len(r.text) // 2,
        "markup wall": lambda r: (
            len(r.text) == TEXT_MAX_LENGTH and min(r.text.count("&"), r.text.count("<")) >= 150
        ),
        "rtl": lambda r: any(map(_is_rtl, r.text)),
        "invisible": lambda r: (
            any(map(unicodedata.combining, r.text)) and any(c in r.text for c in ZERO_WIDTH)
        ),
        "blank lines": lambda r: sum(c.isspace() for c in r.text) > 0.5 * len(r.text),
        "lookalikes": lambda r: _mixes_scripts(r.name) and _mixes_scripts(r.text),
        "one character": lambda r: len(r.text.strip()) == 1,
    }
    for kind, matches in edges.items():
        assert sum(map(matches, sample)) >= 3, kind


@PROPERTIES
@given(names())
def test_names_are_accepted(name: str) -> None:
    assert _squash(clean_name(name)) == _squash(name)


@PROPERTIES
@given(texts())
def test_texts_are_accepted(text: str) -> None:
    assert clean_text(text) == text.strip()


@PROPERTIES
@given(phones())
def test_phones_are_accepted(phone: str) -> None:
    assert clean_phone(phone).startswith("+")
    assert phonenumbers.is_valid_number(phonenumbers.parse(phone, "RU"))


@PROPERTIES
@given(requests())
def test_requests_are_accepted(request: Request) -> None:
    _accepted(request)


@PROPERTIES
@given(hostile_texts())
def test_hostile_texts_carry_what_no_client_can_send(text: str) -> None:
    assert 1 <= len(text) <= TEXT_MAX_LENGTH
    assert any(c in HOSTILE for c in text)


def test_the_strategies_cover_every_length_and_character_class() -> None:
    seen_lengths: set[tuple[str, int]] = set()
    seen_classes: set[str] = set()
    classes = {
        "cyrillic": lambda c: "CYRILLIC" in unicodedata.name(c, ""),
        "latin": lambda c: "LATIN" in unicodedata.name(c, ""),
        "digit": str.isdigit,
        "emoji": lambda c: ord(c) >= 0x1F000,
        "flag": lambda c: 0x1F1E6 <= ord(c) <= 0x1F1FF,
        "zwj": lambda c: c == "\u200d",
        "rtl": _is_rtl,
        "combining": lambda c: bool(unicodedata.combining(c)),
        "zero width": lambda c: c in ZERO_WIDTH,
        "html": lambda c: c in "<>&\"'",
        "markdown": lambda c: c in "*_[]()~`",
        "newline": lambda c: c == "\n",
        "tab": lambda c: c == "\t",
    }

    @settings(max_examples=200, database=None, deadline=None, derandomize=True)
    @given(names(), texts())
    def collect(name: str, text: str) -> None:
        seen_lengths.add(("name", len(clean_name(name))))
        seen_lengths.add(("text", len(clean_text(text))))
        seen_classes.update(k for k, test in classes.items() for c in name + text if test(c))

    collect()
    expected = {("name", 1), ("name", NAME_MAX_LENGTH), ("text", 1), ("text", TEXT_MAX_LENGTH)}
    assert expected <= seen_lengths
    assert seen_classes == set(classes)
