"""Realistic client requests for tests and benchmarks: a seeded factory and hypothesis strategies.

Every value is one the form accepts as typed (`vizteh_bot.domain.input.clean_*`); cleaning may
only change whitespace.  Lengths are in code points, as the form counts; measure Telegram's
limits with `support.fake_objects.utf16_len`.
"""

from __future__ import annotations

import dataclasses
import random
import unicodedata
from dataclasses import dataclass

from faker import Faker
from hypothesis import assume
from hypothesis import strategies as st

from support.data_edges import (
    APOSTROPHE_NAMES,
    ATOMS,
    BULLETS,
    CURRENCY,
    EDGES,
    EMOJI,
    FOREIGN_PLANS,
    FOREIGN_STYLES,
    GREETINGS,
    HOSTILE,
    MARKUP,
    RU_LANDLINE,
    RU_MOBILE,
    RU_STYLES,
    SIGNOFFS,
    TEMPLATES,
    fit,
    format_phone,
    is_valid_phone,
    person,
    random_phone,
)
from vizteh_bot.domain.input import (
    NAME_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    clean_name,
    clean_phone,
    clean_text,
)

EDGE_EVERY = 20  # one request in this many is an edge value from support.data_edges


@dataclass(frozen=True)
class Request:
    """What a client typed into the form; `language` is their Telegram language."""

    name: str
    phone: str
    text: str
    language: str

    def cleaned(self) -> Request:
        """The request as the bot stores it: whitespace collapsed, phone in E.164."""
        return Request(
            clean_name(self.name), clean_phone(self.phone), clean_text(self.text), self.language
        )


# ---------------------------------------------------------------------------------- factory


class RequestFactory:
    """A stream of realistic requests, the same stream for the same seed."""

    def __init__(self, seed: int = 0) -> None:
        self._rnd = random.Random(seed)
        self._fakers = {"ru": Faker("ru_RU"), "en": Faker("en_US")}
        for offset, fake in enumerate(self._fakers.values()):
            fake.seed_instance(seed * 2 + offset)
        self._count = 0
        self._edge_slot = self._rnd.randrange(EDGE_EVERY)
        self._edges: list[str] = []

    def requests(self, n: int) -> list[Request]:
        return [self.request() for _ in range(n)]

    def request(self) -> Request:
        rnd = self._rnd
        language = "ru" if rnd.random() < 0.8 else "en"
        fake = self._fakers[language]
        name = self._name(fake, language)
        phone = random_phone(rnd, 0.07 if language == "ru" else 0.5)
        request = Request(name, phone, self._text(fake, language, name), language)
        self._count += 1
        if self._count % EDGE_EVERY == self._edge_slot:
            if not self._edges:  # every kind once per cycle, in a seeded order
                self._edges = list(EDGES)
                rnd.shuffle(self._edges)
            request = dataclasses.replace(request, **EDGES[self._edges.pop()](rnd, fake, language))
        return request

    def _name(self, fake: Faker, language: str) -> str:
        rnd = self._rnd
        female = rnd.random() < 0.5
        first, last, middle = person(fake, rnd, language, female)
        roll = rnd.random()
        if roll < 0.25:
            return first
        if roll < 0.55:
            return f"{first} {last}"
        if roll < 0.62:
            return f"{last} {first}"
        if roll < 0.74:
            return (
                f"{last} {first} {middle}" if language == "ru" else f"{first} {middle[0]}. {last}"
            )
        if roll < 0.79:
            other_first, other_last, _ = person(fake, rnd, language, female)
            if rnd.random() < 0.5:
                return f"{first}-{other_first} {last}"
            return f"{first} {last}-{other_last}"
        if roll < 0.84:
            apostrophe = rnd.choice(APOSTROPHE_NAMES[language]).format(a=rnd.choice("'’"))
            if language == "ru":  # Ukrainian spelling: Дар'я
                return f"{apostrophe} {person(fake, rnd, language, female=True)[1]}"
            return f"{first} {apostrophe}"
        if roll < 0.90:
            company = fake.company()
            return company if rnd.random() < 0.5 else f"{first}, {company}"
        if roll < 0.94:
            emoji = rnd.choice(EMOJI)
            return f"{first} {emoji}" if rnd.random() < 0.7 else f"{emoji}{first}{emoji}"
        if roll < 0.97:
            return rnd.choice((first.lower(), fake.user_name(), f"{first.upper()} {last.upper()}"))
        long = f"{last} {first} {middle}, {fake.job()}, {fake.company()}, {fake.city()}"
        return fit(long, rnd.randint(40, NAME_MAX_LENGTH))

    def _text_size(self) -> int:
        rnd, roll = self._rnd, self._rnd.random()
        if roll < 0.70:
            return round(rnd.triangular(100, 600, 220))
        if roll < 0.88:
            return rnd.randint(600, 1200)
        return rnd.randint(1200, TEXT_MAX_LENGTH - 1) if roll < 0.96 else TEXT_MAX_LENGTH

    def _text(self, fake: Faker, language: str, name: str) -> str:
        rnd, size = self._rnd, self._text_size()
        greeting = rnd.choice(GREETINGS[language])
        parts = [greeting] if greeting else []
        while sum(len(part) + 1 for part in parts) < size + 40:
            parts.append(self._part(fake, language))
        signoff = rnd.choice(SIGNOFFS[language]).format(name=name.split()[0])
        text = "".join(p + rnd.choice(("\n", " ", " ", "\n\n")) for p in parts).strip()
        if size == TEXT_MAX_LENGTH:
            return fit(text, size)
        cut = text.rfind(" ", 0, size - len(signoff) - 1)
        body = text[:cut].rstrip(" ,—") if cut > size // 2 else text[: size - len(signoff) - 1]
        return fit(f"{body.rstrip()} {signoff}", size)

    def _part(self, fake: Faker, language: str) -> str:
        rnd, roll = self._rnd, self._rnd.random()
        if roll < 0.35:
            part = fake.paragraph(nb_sentences=rnd.randint(1, 4))
        elif roll < 0.70:
            amount = rnd.choice((350, 1500, 12_990, 50_000, 249_900, 1_200_000))
            amount += rnd.randint(0, 99)
            separator = "," if language == "en" else rnd.choice((" ", "\u00a0", "\u202f", ""))
            price = rnd.choice(CURRENCY[language]).format(f"{amount:,}".replace(",", separator))
            part = rnd.choice(TEMPLATES[language]).format(
                word=fake.word(),
                price=price,
                order=rnd.randint(100, 999_999),
                url=fake.url(),
                company=fake.company(),
                date=fake.date(),
                email=fake.email(),
            )
        elif roll < 0.82:
            bullet = rnd.choice(BULLETS)
            items = [fake.sentence(nb_words=rnd.randint(2, 6)) for _ in range(rnd.randint(2, 6))]
            lines = [bullet.format(i=i) + item for i, item in enumerate(items, 1)]
            part = fake.sentence(nb_words=3).rstrip(".") + ":\n" + "\n".join(lines)
        else:
            part = fake.sentence()
        if rnd.random() < 0.05:
            part += " " + rnd.choice(MARKUP)
        if rnd.random() < 0.08:
            part += " " + "".join(rnd.choices(EMOJI, k=rnd.choice((1, 1, 2, 3))))
        return part


# ------------------------------------------------------------------------ hypothesis strategies

_VALID_CHAR = st.characters(
    exclude_categories=("Cc", "Cs", "Cn", "Zl", "Zp"),
    exclude_characters="\ufeff\ufffe\uffff",
    include_characters="\n\t",
)
_PIECE = st.sampled_from(ATOMS) | st.text(_VALID_CHAR, min_size=1, max_size=6)
_PIECES = st.lists(_PIECE, min_size=1, max_size=10)


def _sizes(min_size: int, max_size: int) -> st.SearchStrategy[int]:
    """Any length, with the short ones, those near the limit and both bounds drawn often."""
    return st.one_of(
        st.integers(min_size, min(max_size, min_size + 20)),
        st.integers(min_size, max_size),
        st.integers(max(min_size, max_size - 20), max_size),
        st.sampled_from((min_size, max_size)),
    )


def _fill(rnd: random.Random, pieces: list[str], size: int, *, collapse: bool) -> str:
    """Exactly `size` characters of `pieces` that the form's cleaning keeps as they are."""
    # Visible characters (letters, digits, punctuation, symbols) open the value and replace
    # whitespace at its ends: the form refuses values of only spaces, zero-width or combining.
    solid = [c for piece in pieces for c in piece if unicodedata.category(c)[0] in "LNPS"]
    if not solid:
        solid = ["ж"]
        pieces = [*pieces, "ж"]
    value = rnd.choice(solid)
    while len(value) < size:
        value += "".join(rnd.choices(pieces, k=size - len(value)))
        if collapse:
            value = " ".join(value.split())
    value = value[:size]
    ends = [rnd.choice(solid) if c.isspace() else c for c in (value[0], value[-1])]
    return value if size == 1 else ends[0] + value[1:-1] + ends[1]


@st.composite
def _cleanable(draw: st.DrawFn, min_size: int, max_size: int, collapse: bool) -> str:
    size = draw(_sizes(min_size, max_size))
    value = _fill(draw(st.randoms(use_true_random=True)), draw(_PIECES), size, collapse=collapse)
    # Whitespace that cleaning drops or collapses, where the raw value still fits the limit.
    gap = draw(st.sampled_from((" ", " ", "  ", "\t", " \n")))
    if collapse and len(value) + len(gap) - 1 <= max_size:
        value = value.replace(" ", gap, 1)
    pad = draw(st.sampled_from(("", "", "", " ", "\n", "\t ", "  ")))
    return pad + value + pad if len(value) + 2 * len(pad) <= max_size else value


def names(min_size: int = 1, max_size: int = NAME_MAX_LENGTH) -> st.SearchStrategy[str]:
    """Names that `clean_name` accepts, its result `min_size..max_size` characters long."""
    return _cleanable(min_size, max_size, collapse=True)


def texts(min_size: int = 1, max_size: int = TEXT_MAX_LENGTH) -> st.SearchStrategy[str]:
    """Texts that `clean_text` accepts, its result `min_size..max_size` characters long."""
    return _cleanable(min_size, max_size, collapse=False)


@st.composite
def phones(draw: st.DrawFn) -> str:
    """Phones as clients type them, Russian and foreign, all valid for `clean_phone`."""
    if draw(st.booleans()):
        plan = draw(st.sampled_from((RU_MOBILE, RU_LANDLINE)))
        style = draw(st.sampled_from(RU_STYLES))
    else:
        plan, style = draw(st.sampled_from(FOREIGN_PLANS)), draw(st.sampled_from(FOREIGN_STYLES))
    prefix = draw(st.sampled_from(plan[1]))
    phone = format_phone(plan, prefix, draw(st.integers(0, 10 ** plan[2] - 1)), style)
    assume(is_valid_phone(phone))  # a few random subscribers fall outside allocated ranges
    return phone


def requests() -> st.SearchStrategy[Request]:
    return st.builds(Request, names(), phones(), texts(), st.sampled_from(("ru", "en")))


@st.composite
def hostile_texts(
    draw: st.DrawFn,
    min_size: int = 1,
    max_size: int = TEXT_MAX_LENGTH,
    *,
    surrogates: bool = False,
) -> str:
    """Texts with characters a client cannot send: U+0000, C0/C1 controls, U+FEFF, U+2028.

    `min_size` is at least 1.  Not necessarily accepted by the form; lone surrogates, which
    cannot even be encoded as UTF-8, only with `surrogates=True`.
    """
    hostile = (*HOSTILE, "\ud800", "\udfff") if surrogates else HOSTILE
    size = draw(_sizes(min_size, max_size))
    pieces = [*draw(_PIECES), *draw(st.lists(st.sampled_from(hostile), min_size=1, max_size=5))]
    rnd = draw(st.randoms(use_true_random=True))
    value = list("".join(rnd.choices(pieces, k=size))[:size])
    for _ in range(draw(st.integers(1, 3))):  # at least one, wherever it falls
        value[draw(st.integers(0, size - 1))] = draw(st.sampled_from(hostile))
    return "".join(value)
