"""Reading form files: the packaged ones load, every mistake is one line naming what to fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from support.forms import DEFAULT_FORM, EXAMPLE_FORM
from vizteh_bot.domain.form import FieldType, FormField
from vizteh_bot.domain.input import InvalidInput
from vizteh_bot.forms.loader import FormFileError, load_form

GOOD_FIELD = """
[[fields]]
id = "name"
type = "text"
question = "Как вас зовут?"
"""


def write(tmp_path: Path, text: str, name: str = "form.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_default_form_is_the_three_questions_of_before() -> None:
    assert [(f.id, f.type, f.required) for f in DEFAULT_FORM.fields] == [
        ("name", FieldType.TEXT, True),
        ("phone", FieldType.PHONE, True),
        ("text", FieldType.TEXT, True),
    ]
    assert DEFAULT_FORM.by_id["name"].max_length == 100
    assert DEFAULT_FORM.by_id["text"].max_length == 2000
    assert DEFAULT_FORM.main_text_field is DEFAULT_FORM.by_id["text"]


def test_the_example_form_uses_every_type_and_optional_fields() -> None:
    assert {f.type for f in EXAMPLE_FORM.fields} == set(FieldType)
    assert [f.id for f in EXAMPLE_FORM.fields if not f.required] == ["company", "budget", "email"]
    assert EXAMPLE_FORM.main_text_field is EXAMPLE_FORM.by_id["task"]
    assert EXAMPLE_FORM.by_id["budget"].question("en").startswith("What is your budget")


def test_a_label_is_derived_from_the_question_when_not_given(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[fields]]\nid = "city"\ntype = "text"\n'
        'question = "<b>Из какого вы города?</b>\\nНапример, Казань."\n',
    )
    assert load_form(path).by_id["city"].label("ru") == "Из какого вы города"


def test_a_byte_order_mark_and_a_language_table_are_read(tmp_path: Path) -> None:
    path = tmp_path / "form.toml"
    path.write_bytes(
        '\ufeff[[fields]]\nid = "name"\ntype = "text"\n'
        'question.ru = "Имя?"\nquestion.en = "Name?"\n'.encode()
    )
    field = load_form(path).by_id["name"]
    assert (field.question("ru"), field.question("en"), field.question("de")) == (
        "Имя?",
        "Name?",
        "Имя?",
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[[fields]\nid = 1", "not valid TOML: "),
        ("title = 'x'\n" + GOOD_FIELD, "unknown key 'title' at the top"),
        ("", "no questions; add at least one [[fields]] table"),
        (
            GOOD_FIELD.replace('"text"', '"money"'),
            "field 1 (name): unknown type 'money'; expected text",
        ),
        (GOOD_FIELD + "colour = 'red'\n", "field 1 (name): unknown key 'colour'"),
        (GOOD_FIELD + GOOD_FIELD, "field 2 (name): the id 'name' is used by an earlier field"),
        (GOOD_FIELD.replace('"text"', '"choice"'), "field 1 (name): a choice needs options"),
        (
            GOOD_FIELD.replace('"text"', '"choice"') + "options = ['Да', 'да']\n",
            "field 1 (name): option 'да' is listed twice",
        ),
        (
            GOOD_FIELD.replace('"text"', '"choice"') + "options = ['⬅️ Назад', 'Дальше']\n",
            "option '⬅️ Назад' is the text of the bot's own button",
        ),
        (
            GOOD_FIELD + "min_length = 20\nmax_length = 10\n",
            "min_length 20 is above max_length 10",
        ),
        (
            GOOD_FIELD.replace('"text"', '"number"') + "min = 100\nmax = 1\n",
            "field 1 (name): min 100 is above max 1",
        ),
        (
            GOOD_FIELD.replace('"text"', '"number"') + "min = nan\n",
            "field 1 (name): min must be a number",
        ),
        (GOOD_FIELD + "options = ['a']\n", "'options' does not apply to type 'text'"),
        (
            GOOD_FIELD.replace('question = "Как вас зовут?"', 'question.en = "Name?"'),
            "field 1 (name): question has no text in ru (DEFAULT_LOCALE); add question.ru",
        ),
        (
            GOOD_FIELD.replace('question = "Как вас зовут?"', 'question.de = "Name?"'),
            "question in unknown language 'de'",
        ),
        (GOOD_FIELD.replace('"Как вас зовут?"', '"Имя <b>и фамилия"'), "<b> is never closed"),
        (GOOD_FIELD.replace('"Как вас зовут?"', '"Цена < 100"'), "a lone < or >"),
        (GOOD_FIELD.replace('"Как вас зовут?"', '"Tom & Jerry"'), "a lone &"),
        (GOOD_FIELD.replace('"Как вас зовут?"', '"<div>Имя</div>"'), "<div> is not a Telegram"),
        (GOOD_FIELD + "required = false\n", "every field is optional"),
        (
            GOOD_FIELD.replace('id = "name"', 'id = "Имя поля"'),
            "id must be a short name of latin letters",
        ),
        (GOOD_FIELD + "label = '" + "x" * 49 + "'\n", "label.ru is 49 characters, at most 48"),
        (GOOD_FIELD + "required = 'yes'\n", "required must be true or false"),
        (GOOD_FIELD + "max_length = 100000\n", "max_length must be a whole number from 1 to 3500"),
    ],
    ids=lambda value: value if len(value) < 30 else None,
)
def test_a_malformed_file_names_the_file_the_field_and_the_problem(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(FormFileError) as raised:
        load_form(path)
    message = str(raised.value)
    assert message.startswith(f"FORM_FILE {path}: ")
    assert problem in message
    assert "\n" not in message, "one line"


@pytest.mark.parametrize(
    ("setup", "problem"),
    [
        (lambda p: None, "no such file"),
        (lambda p: p.mkdir(), "is a folder, not a file"),
        (lambda p: p.write_bytes(b"\xff\xfe[[fields]]"), "not UTF-8 text"),
    ],
    ids=["missing", "folder", "not-utf8"],
)
def test_a_file_that_cannot_be_read_says_why(tmp_path: Path, setup: Any, problem: str) -> None:
    path = tmp_path / "form.toml"
    setup(path)
    with pytest.raises(FormFileError, match=problem):
        load_form(path)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("150 000", "150000"),
        ("12,5", "12.5"),
        ("1 000 000,00", "1000000"),
        ("-0", "0"),
        ("١٢٠٠٠", "12000"),  # Arabic-Indic digits, as an RTL keyboard types them
        ("50\u202f000", "50000"),  # a narrow no-break space between thousands
    ],
)
def test_numbers_are_read_as_people_write_them(raw: str, stored: str) -> None:
    field = FormField(id="n", type=FieldType.NUMBER, questions={"ru": "?"}, labels={"ru": "n"})
    assert field.clean(raw) == stored


@pytest.mark.parametrize("raw", ["", "12,5,3", "1e5", "nan", "inf", "∞", "12 руб", "0x10"])
def test_a_number_that_is_not_one_is_refused(raw: str) -> None:
    field = EXAMPLE_FORM.by_id["budget"]
    with pytest.raises(InvalidInput) as raised:
        field.clean(raw)
    assert raised.value.key == "error-number-invalid"


@pytest.mark.parametrize(
    "raw", ["irina@", "@example.com", "ирина example.com", "a@b", "x" * 300 + "@example.com"]
)
def test_an_email_that_is_not_one_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        EXAMPLE_FORM.by_id["email"].clean(raw)
    assert raised.value.key == "error-email-invalid"


def test_an_email_keeps_its_local_part_and_lowers_the_domain() -> None:
    assert EXAMPLE_FORM.by_id["email"].clean(" Irina.K@Пример.РФ ") == "Irina.K@пример.рф"
