"""Every message the bot renders is one Telegram accepts, whatever the client typed.

Names, phones and texts of every allowed length and character class (support.data) go
through each renderer in both languages; the result must parse as Telegram's HTML (the
fake Bot API's parser, as strict as Telegram's) and stay within 4 096 UTF-16 units after
parsing. A digest of ten such requests, closed and reopened by managers with long names,
must stay one valid message too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.data import Request, names, requests, texts
from support.fake_objects import render_html, utf16_len
from support.forms import DEFAULT_FORM
from vizteh_bot.domain.form import FieldType, Form, FormField
from vizteh_bot.domain.input import clean_name, clean_phone, clean_text
from vizteh_bot.domain.tickets import Client, Ticket, TicketStatus, answered_fields, new_ticket
from vizteh_bot.telegram import keyboards
from vizteh_bot.telegram.render.cards import digest_size, manager_message
from vizteh_bot.telegram.render.fallback import fallback_card, full_text_parts
from vizteh_bot.telegram.render.fit import CAPTION_LIMIT, MESSAGE_LIMIT
from vizteh_bot.telegram.render.summary import form_lines, form_summary
from vizteh_bot.texts import Translations

TRANSLATIONS = Translations()
LANGUAGES = [TRANSLATIONS.for_language(code) for code in ("ru", "en")]
ZONE = ZoneInfo("Europe/Moscow")
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MOST_IN_A_DIGEST = 10


def assert_valid(html: str, limit: int = MESSAGE_LIMIT) -> str:
    visible = render_html(html)  # raises as Telegram's "can't parse entities" would
    assert visible.strip(), "Telegram refuses an empty message"
    assert utf16_len(visible) <= limit, f"{utf16_len(visible)} UTF-16 units"
    return visible


def ticket_from(
    request: Request, number: int, *, closed_by: str | None = None, long_profile: bool = True
) -> Ticket:
    created = datetime(2026, 12, 2, 9, 30, tzinfo=UTC) + timedelta(minutes=number % 100_000)
    # Telegram allows 64 + 64 characters of name and 32 of username: the worst case, unless
    # a test wants an ordinary profile.
    full_name = clean_name(request.name)[:64] + " " + "Фамилия" * 9 if long_profile else "Анна"
    return Ticket(
        id=number,
        client=Client(
            user_id=10_000 + number,
            full_name=full_name,
            username="client_" + "x" * 25 if long_profile else None,
            language=request.language,
        ),
        name=clean_name(request.name),
        phone=clean_phone(request.phone),
        text=clean_text(request.text),
        status=TicketStatus.CLOSED if closed_by else TicketStatus.OPEN,
        created_at=created,
        status_changed_at=created + timedelta(hours=1) if closed_by else None,
        status_changed_by=closed_by,
    )


@PROPERTY
@given(request=requests(), language=st.sampled_from(LANGUAGES), sent=st.booleans())
def test_the_summary_is_always_one_valid_message(
    request: Request, language: object, sent: bool
) -> None:
    form = {
        "name": clean_name(request.name),
        "phone": clean_phone(request.phone),
        "text": clean_text(request.text),
    }
    lines = form_lines(DEFAULT_FORM, form, language.locale)  # type: ignore[attr-defined]
    visible = assert_valid(form_summary(language, lines, sent=sent))  # type: ignore[arg-type]
    # The whole answer is shown unless it cannot be: then its start, with a note.
    if form["text"] not in visible:
        assert visible.count("…") >= 1


@PROPERTY
@given(
    request=requests(),
    closed_by=st.one_of(st.none(), names(max_size=129)),
    number=st.integers(min_value=1, max_value=10**12),
    language=st.sampled_from(LANGUAGES),
)
def test_a_card_is_always_one_valid_message(
    request: Request, closed_by: str | None, number: int, language: object
) -> None:
    ticket = ticket_from(request, number, closed_by=closed_by)
    rendered = manager_message(language, [ticket], ZONE)  # type: ignore[arg-type]
    visible = assert_valid(rendered.html)
    assert (ticket.text in visible) == (ticket.id not in rendered.shortened)
    keyboard = keyboards.manager_message(language, [ticket], rendered.shortened)  # type: ignore[arg-type]
    buttons = [button for row in keyboard.inline_keyboard for button in row]
    assert all(len((button.callback_data or "").encode()) <= 64 for button in buttons)
    assert len(buttons) == 1 + (ticket.id in rendered.shortened)


@PROPERTY
@given(
    batch=st.lists(requests(), min_size=2, max_size=MOST_IN_A_DIGEST),
    managers=st.lists(names(min_size=60, max_size=129), min_size=1, max_size=3),
    language=st.sampled_from(LANGUAGES),
)
def test_a_digest_and_every_later_state_of_it_stay_one_valid_message(
    batch: list[Request], managers: list[str], language: object
) -> None:
    tickets = [ticket_from(request, 1000 + i) for i, request in enumerate(batch)]
    size = digest_size(language, tickets, ZONE, MOST_IN_A_DIGEST)  # type: ignore[arg-type]
    shown = tickets[:size]
    assert_valid(manager_message(language, shown, ZONE).html)  # type: ignore[arg-type]
    # Managers with long names close every request of the digest: the edit still fits.
    closed = [
        ticket_from(batch[i], ticket.id, closed_by=managers[i % len(managers)])
        for i, ticket in enumerate(shown)
    ]
    rendered = manager_message(language, closed, ZONE)  # type: ignore[arg-type]
    assert_valid(rendered.html)
    keyboard = keyboards.manager_message(language, closed, rendered.shortened)  # type: ignore[arg-type]
    assert sum(len(row) for row in keyboard.inline_keyboard) <= 2 * len(closed)


def test_ten_long_requests_make_one_digest() -> None:
    """What a burst after an advertising post looks like: ten requests near the limit."""
    long_text = ("Нужен сайт для интернет-магазина & склада <b>срочно</b> 🚀. " * 60)[:2000]
    requests_ = [Request(f"Клиент {i}", "+7 916 123-45-67", long_text, "ru") for i in range(10)]
    tickets = [
        ticket_from(request, i + 1, long_profile=False) for i, request in enumerate(requests_)
    ]
    texts_ = LANGUAGES[0]
    assert digest_size(texts_, tickets, ZONE, MOST_IN_A_DIGEST) == 10
    rendered = manager_message(texts_, tickets, ZONE)
    visible = assert_valid(rendered.html)
    assert rendered.shortened == frozenset(ticket.id for ticket in tickets)
    for ticket in tickets:
        assert f"Заявка №{ticket.id}" in visible


@PROPERTY
@given(request=requests(), error=texts(max_size=600), language=st.sampled_from(LANGUAGES))
def test_the_fallback_card_is_always_one_plain_message(
    request: Request, error: str, language: object
) -> None:
    ticket = ticket_from(request, 7)
    text = fallback_card(
        language,  # type: ignore[arg-type]
        number=ticket.id,
        name=ticket.name,
        phone=ticket.phone,
        client_id=ticket.client.user_id,
        text=ticket.text,
        error=error,
    )
    assert text.strip()
    assert utf16_len(text) <= MESSAGE_LIMIT
    assert ticket.name in text
    assert ticket.phone in text


@PROPERTY
@given(text=texts(), language=st.sampled_from(LANGUAGES))
def test_the_full_text_comes_whole_in_plain_parts(text: str, language: object) -> None:
    cleaned = clean_text(text)
    parts = full_text_parts(language, number=42, text=cleaned)  # type: ignore[arg-type]
    assert all(utf16_len(part) <= MESSAGE_LIMIT for part in parts)
    assert "".join(part.split("\n", 1)[1] for part in parts) == cleaned


def test_texts_without_user_values_fit_their_limits() -> None:
    for language in LANGUAGES:
        assert_valid(language("about-text"), CAPTION_LIMIT)
        assert_valid(language("ticket-accepted", number=10**12))
        assert_valid(language("menu-greeting", name="Я" * 64))


@st.composite
def answered_forms(draw: st.DrawFn) -> tuple[Form, dict[str, str | None]]:
    """A form of up to 30 fields (the most a file may have) with labels of up to 48
    characters, every text field up to its longest answer, some answers skipped."""
    count = draw(st.integers(min_value=1, max_value=30))
    fields, answers = [], {}
    for index in range(count):
        label = draw(names(max_size=48))
        longest = draw(st.sampled_from((100, 1500, 3500)))
        field = FormField(
            id=f"f{index}",
            type=FieldType.TEXT,
            questions={"ru": "?"},
            labels={"ru": label, "en": label},
            required=index == 0,
            max_length=longest,
        )
        fields.append(field)
        skipped = index > 0 and draw(st.booleans())
        answers[field.id] = None if skipped else draw(texts(max_size=longest))
    return Form(tuple(fields)), answers


@PROPERTY
@given(form_and_answers=answered_forms(), language=st.sampled_from(LANGUAGES))
def test_a_form_of_many_long_answers_still_makes_one_valid_summary_and_card(
    form_and_answers: tuple[Form, dict[str, str | None]], language: object
) -> None:
    form, raw = form_and_answers
    answers = {k: None if v is None else form.by_id[k].clean(v) for k, v in raw.items()}
    lines = form_lines(form, answers, language.locale)  # type: ignore[attr-defined]
    assert_valid(form_summary(language, lines))  # type: ignore[arg-type]
    client = Client(10_001, "Анна", None, "ru")
    new = new_ticket(client, form, answers, "k")
    assert new.fields == answered_fields(form)
    ticket = Ticket(
        id=77,
        client=client,
        name=new.name,
        phone=new.phone,
        text=new.text,
        status=TicketStatus.OPEN,
        created_at=datetime(2026, 12, 2, 9, 30, tzinfo=UTC),
        answers=new.answers,
        fields=new.fields,
    )
    rendered = manager_message(language, [ticket], ZONE)  # type: ignore[arg-type]
    visible = assert_valid(rendered.html)
    whole = all(value is None or value in visible for value in answers.values())
    assert whole or ticket.id in rendered.shortened, "what is cut is one button away"
    details = ticket.details_text(language.locale)  # type: ignore[attr-defined]
    parts = full_text_parts(language, number=77, text=details)  # type: ignore[arg-type]
    assert all(utf16_len(part) <= MESSAGE_LIMIT for part in parts)
