"""What `support.data` is made of: characters, phones, phrases, and the rare edge requests.

The edge builders recreate the inputs behind past delivery failures; `support.data` mixes
them into its stream (about 1 request in 20), each returning the `Request` fields it overrides.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import phonenumbers
from faker import Faker

from vizteh_bot.domain.input import (
    DEFAULT_PHONE_REGION,
    NAME_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    InvalidInput,
    clean_phone,
)

# One code point and two UTF-16 units each: a text of these doubles in Telegram's counting.
ASTRAL_EMOJI = tuple(chr(code) for code in range(0x1F600, 0x1F650))
EMOJI = (
    *("🙏", "👍", "😊", "🔥", "✅", "❗", "📞", "📦", "🚚", "💰", "😡", "🤝", "👌", "⚡"),
    "\u2764\ufe0f",  # red heart with the emoji variation selector
    "\u260e\ufe0f",
    "\U0001f44d\U0001f3fd",  # thumbs up, medium skin tone
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",  # family: a ZWJ sequence
    "\U0001f469\U0001f3fb\u200d\U0001f4bb",
    "\U0001f3f3\ufe0f\u200d\U0001f308",
    "\U0001f1f7\U0001f1fa",  # flags are pairs of regional indicators
    "\U0001f1ec\U0001f1e7",
    "1\ufe0f\u20e3",  # keycap
)
RTL_WORDS = (
    *("مرحبا", "شكرا", "طلب", "السعر", "التوصيل", "غدا", "من فضلك", "الفاتورة"),
    *("שלום", "תודה", "הזמנה", "מחיר", "משלוח", "מחר", "בבקשה", "חשבונית"),
)
RTL_NAMES = ("محمد علي", "فاطمة الزهراء", "عبد الله", "דוד כהן", "נועה לוי", "יוסי")
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\u00ad", "\u200e", "\u200f")
COMBINING = tuple(chr(code) for code in range(0x0300, 0x0370))
CYRILLIC_TO_LATIN = dict(zip("аеорсхуАВЕКМНОРСТХ", "aeopcxyABEKMHOPCTX", strict=True))
LATIN_TO_CYRILLIC = {latin: cyrillic for cyrillic, latin in CYRILLIC_TO_LATIN.items()}
MARKUP = (
    *("<b>срочно</b>", "<i>", "</div>", "<br>", "x < y > z", "<script>", "&", "&amp;"),
    *("R&D", "A & B", "&lt;3", "**важно**", "__init__", "_курсив_", "*", "2*2=4", "~~", "||"),
    *("[ссылка](x)", "[link](https://example.com)", "`код`", "```", "\\", "#хештег", "@user"),
)
_AMPERSANDS = ("&", "&amp;", "R&D", "AT&T", "&&", "&nbsp;", "Tom&Jerry", "&#38;")
_ANGLES = ("<", "<b>", "</b>", "<i>", "x<y", "<<", "<br/>", "<a href='x'>", "<3")
_BLANKS = ("\n", "\n\n", " \n", "\t\n", "\n \n", "\n\n\n", "  \n", "\n\t")

# ------------------------------------------------------------------- phones and phrases

# (country code, national prefixes, subscriber digits); random subscribers are mostly valid.
PhonePlan = tuple[str, tuple[str, ...], int]
RU_MOBILE: PhonePlan = ("7", tuple(str(code) for code in range(900, 1000) if code != 930), 7)
RU_LANDLINE: PhonePlan = ("7", ("495", "499", "812", "343", "383", "800", "846", "861"), 7)
FOREIGN_PLANS: tuple[PhonePlan, ...] = (
    *(("44", ("207", "203"), 7), ("44", ("74", "77", "79"), 8), ("1", ("212", "415"), 7)),
    *(("49", ("30", "151"), 8), ("7", ("701", "705", "747", "777"), 7), ("375", ("29",), 7)),
    *(("380", ("67", "50"), 7), ("998", ("90",), 7), ("90", ("53",), 8), ("374", ("91",), 6)),
    *(("86", ("138",), 8), ("971", ("50",), 7), ("33", ("6",), 8), ("972", ("50",), 7)),
)
# The ways people type a Russian number; {n} is the ten-digit national number.
RU_STYLES = (
    "+7 {a} {b}-{c}-{d}", "8{n}", "8 ({a}) {b} {c} {d}", "+7{n}", "7-{a}-{b}-{c}-{d}",
    "8-{a}-{b}-{c}-{d}", "+7 ({a}) {b}-{c}-{d}", "7{n}", "8 {a} {b} {c}{d}", " +7 {a} {b} {c} {d}",
)  # fmt: skip
RU_STYLE_WEIGHTS = (20, 25, 10, 20, 3, 5, 8, 3, 4, 2)
FOREIGN_STYLES = ("international", "spaced", "e164")


def is_valid_phone(raw: str) -> bool:
    """Valid for phonenumbers in region RU, and accepted by the form's `clean_phone`."""
    try:
        number = phonenumbers.parse(raw, DEFAULT_PHONE_REGION)
        clean_phone(raw)
    except (phonenumbers.NumberParseException, InvalidInput):
        return False
    return phonenumbers.is_valid_number(number)


def format_phone(plan: PhonePlan, prefix: str, subscriber: int, style: str) -> str:
    country, _, digits = plan
    national = prefix + str(subscriber).zfill(digits)
    if plan in (RU_MOBILE, RU_LANDLINE):
        a, b, c, d = national[:3], national[3:6], national[6:8], national[8:]
        return style.format(n=national, a=a, b=b, c=c, d=d)
    number = phonenumbers.parse(f"+{country}{national}")
    if style == "e164":
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return formatted.replace("-", " ") if style == "spaced" else formatted


def random_phone(rnd: random.Random, foreign_share: float) -> str:
    """A valid phone typed one of the usual ways; `foreign_share` of them outside Russia."""
    while True:
        if rnd.random() < foreign_share:
            plan, style = rnd.choice(FOREIGN_PLANS), rnd.choice(FOREIGN_STYLES)
        else:
            plan = RU_MOBILE if rnd.random() < 0.9 else RU_LANDLINE
            style = rnd.choices(RU_STYLES, RU_STYLE_WEIGHTS)[0]
        phone = format_phone(plan, rnd.choice(plan[1]), rnd.randrange(10 ** plan[2]), style)
        if is_valid_phone(phone):
            return phone


GREETINGS = {
    "ru": ("Здравствуйте!", "Добрый день.", "Добрый вечер!", "Привет!", "Здравствуйте,", ""),
    "en": ("Hello!", "Hi,", "Good afternoon.", "Hi team!", "Dear support,", ""),
}
SIGNOFFS = {
    "ru": ("Спасибо!", "Заранее спасибо.", "С уважением, {name}", "Жду ответа.", "Спасибо 🙏"),
    "en": ("Thanks!", "Thank you in advance.", "Best regards, {name}", "Cheers,\n{name}"),
}
TEMPLATES = {
    "ru": (
        "Хочу заказать «{word}» на сумму {price}.",
        "Нужна консультация по заказу № {order}.",
        "У «{company}» это стоит {price}, а у вас?",
        "Счёт на {price} от {date} не пришёл!!!",
        "Сайт {url} не открывается…",
        "Пришлите КП на почту {email}, пожалуйста.",
        "Можно ли оплатить {price} частями?",
        "Перезвоните после 18:00 — сейчас на встрече.",
    ),
    "en": (
        "I'd like to order “{word}” for {price}.",
        "I need help with order #{order}.",
        "{company} quotes {price} — can you beat that?",
        "The invoice for {price} ({date})?!",
        "Your site {url} is down...",
        "Please send the quote to {email}.",
        "Can I pay {price} in instalments?",
        "Call me after 6 pm, I'm in a meeting.",
    ),
}
CURRENCY = {
    "ru": ("{} ₽", "{} руб.", "{} р.", "${}", "€{}"),
    "en": ("${}", "€{}", "£{}", "{} RUB"),
}
# Apostrophes in the names of Ukrainian and Irish clients; {a} is ' or ’.
APOSTROPHE_NAMES = {
    "ru": ("Дар{a}я", "Мар{a}яна", "Дар{a}я-Мар{a}яна"),
    "en": ("O{a}Brien", "O{a}Neill", "D{a}Angelo", "O{a}Connor", "D{a}Souza"),
}
BULLETS = ("{i}) ", "{i}. ", "- ", "• ", "* ", "— ")


# Pieces the hypothesis strategies build from: one of each character class.
ATOMS = (
    *"ЖжЁёЙй", *"AzQ", *"07", *EMOJI, *RTL_WORDS[::4], *ZERO_WIDTH, "е\u0301", "a\u0308\u0336",
    *"<>&\"'", *"*_[]()~`", "\n", "\t", " ", "\u00a0", *"«»₽—…", "&amp;", "<b>", "[a](b)",
)  # fmt: skip
_CONTROLS = [c for c in (*range(0x20), *range(0x7F, 0xA0)) if chr(c) not in "\n\t"]
HOSTILE = (*map(chr, _CONTROLS), "\ufeff", "\u2028", "\u2029", "\ufffe", "\uffff")


# ------------------------------------------------------------------------------ edges

Edge = Callable[[random.Random, Faker, str], dict[str, str]]


def person(
    fake: Faker, rnd: random.Random, language: str, female: bool | None = None
) -> tuple[str, str, str]:
    """First, last and middle name (a patronymic for Russian) of one gender."""
    if rnd.random() < 0.5 if female is None else female:
        first, last = fake.first_name_female(), fake.last_name_female()
        middle = fake.middle_name_female() if language == "ru" else fake.first_name_female()
    else:
        first, last = fake.first_name_male(), fake.last_name_male()
        middle = fake.middle_name_male() if language == "ru" else fake.first_name_male()
    return first, last, middle


def fit(value: str, size: int) -> str:
    """`value` cut to exactly `size` characters that strip() leaves as they are."""
    value = value[:size]
    return value[:-1] + "." if value[-1].isspace() else value


def _long_name(rnd: random.Random, fake: Faker, language: str) -> dict[str, str]:
    first, last, middle = person(fake, rnd, language)
    name = f"{last} {first} {middle}"
    while len(name) < NAME_MAX_LENGTH:
        name += f", {fake.job()} {fake.company()}"
    # An emoji at the end takes the name past 100 in UTF-16, where Telegram measures cards.
    tail = " " + rnd.choice(ASTRAL_EMOJI) if rnd.random() < 0.5 else ""
    return {"name": fit(" ".join(name.split()), NAME_MAX_LENGTH - len(tail)) + tail}


def _tiny(rnd: random.Random, fake: Faker, language: str) -> dict[str, str]:
    return {"name": rnd.choice("ЯAЖQ🦊"), "text": rnd.choice(("?", "!", "1", "А", "👍", "🆘"))}


def _emoji_wall(rnd: random.Random, fake: Faker, language: str) -> dict[str, str]:
    return {"text": "".join(rnd.choices(ASTRAL_EMOJI, k=TEXT_MAX_LENGTH))}


def _markup_wall(rnd: random.Random, fake: Faker, language: str) -> dict[str, str]:
    # HTML escaping makes each `&` five characters and each `<` four: 150 broke a summary.
    words_share = 0.6
    while True:
        text = ""
        while len(text) < TEXT_MAX_LENGTH:
            word = fake.word() + " " if rnd.random() < words_share else ""
            text += f"{rnd.choice(_AMPERSANDS)} {word}{rnd.choice(_ANGLES)} "
        text = fit(text, TEXT_MAX_LENGTH)
        if min(text.count("&"), text.count("<")) >= 150:
            return {"text": text}
        words_share *= 0.7


def _rtl(rnd: random.Random, fake: Faker, language: str) -> dict[str, str]:
    size = rnd.choice((rnd.randint(100, 600), rnd.randint(600, TEXT_MAX_LENGTH)))
    parts = [rnd.choice(RTL_WORDS)]
    while sum(map(len, parts)) < size + 20:
        parts.append(
            rnd.choice((*RTL_WORDS, *RTL_WORDS, fake.word(), "123", "50 000 ₽", "\u200f"))
        )
        if rnd.random() < 0.1:
            parts[-1] += rnd.choice((".", "؟", "!", "\n", "،"))
    overrides = {"text": fit(" ".join(parts), size)}
    if rnd.random() < 0.5:
        overrides["name"] = rnd.choice(RTL_NAMES)
    return overrides


def _invisible(rnd: random.Random, fake: Faker, language: str) -> dict[str, str]:
    """Stress marks, zero-width characters and "zalgo", as text copied from the web carries."""
    words = fake.paragraph(nb_sentences=rnd.randint(3, 20)).split()
    for index, word in enumerate(words):
        roll = rnd.random()
        if roll < 0.15:
            cut = rnd.randrange(1, len(word) + 1)
            words[index] = word[:cut] + "\u0301" + word[cut:]
        elif roll < 0.3:
            words[index] = word + rnd.choice(ZERO_WIDTH)
        elif roll < 0.33:
            words[index] = "".join(c + "".join(rnd.choices(COMBINING, k=3)) for c in word)
    text = " ".join(words) + " " + rnd.choice(EMOJI[-7:])
    first = person(fake, rnd, language)[0]
    # "ё" typed as "е" plus a combining diaeresis, and a zero-width space left by a copy.
    name = first.replace("е", "е\u0308", 1).replace("e", "e\u0301", 1) + "\u200b"
    return {"text": fit(text, TEXT_MAX_LENGTH), "name": name}


def _blank_lines(rnd: random.Random, fake: Faker, language: str) -> dict[str, str]:
    size = rnd.randint(200, TEXT_MAX_LENGTH)
    ending = " " + fake.sentence()
    text = rnd.choice(("\n", "", " ")) + fake.word()
    while len(text) < size:
        text += fake.word() if rnd.random() < 0.1 else rnd.choice(_BLANKS)
    return {"text": text[: size - len(ending)] + ending}


def _swap_letters(word: str, rnd: random.Random, table: dict[str, str], share: float) -> str:
    return "".join(table[c] if c in table and rnd.random() < share else c for c in word)


def _lookalikes(rnd: random.Random, fake: Faker, language: str) -> dict[str, str]:
    """Latin letters inside Cyrillic words (and back), as in a "C" typed on the wrong layout."""
    table = CYRILLIC_TO_LATIN if language == "ru" else LATIN_TO_CYRILLIC
    words = fake.paragraph(nb_sentences=rnd.randint(2, 12)).split()
    words = [_swap_letters(w, rnd, table, 0.4) if rnd.random() < 0.3 else w for w in words]
    company = "OOO «Pомашка»" if language == "ru" else "Аpple Inc."
    first, last, _ = person(fake, rnd, language)
    name = _swap_letters(f"{first} {last}", rnd, table, 0.3)
    if name == f"{first} {last}":
        name = company
    return {"name": name, "text": fit(" ".join([company, *words]), TEXT_MAX_LENGTH)}


EDGES: dict[str, Edge] = {
    "name_max": _long_name,
    "tiny": _tiny,
    "emoji_wall": _emoji_wall,
    "markup_wall": _markup_wall,
    "rtl": _rtl,
    "invisible": _invisible,
    "blank_lines": _blank_lines,
    "lookalikes": _lookalikes,
}
