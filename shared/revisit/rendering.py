"""Messages rendered from jinja2 templates in the patient's language, dates formatted for the locale."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from revisit.domain.sms import fold_to_gsm7
from revisit.models.common import Language

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES = Path(__file__).parent / "templates"
LOCALES = {Language.EN: "en_US", Language.ES: "es_ES", Language.BG: "bg_BG", Language.RU: "ru_RU"}


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # jinja2 and babel are imported on the first render, not at a cold start's import (issue 14)
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    return env


def render(language: Language | str, name: str, **context: object) -> str:
    """Renders templates/<language>/<name>.j2; unknown variables are errors, not blanks."""
    language = Language(language)
    env = _environment()
    template = env.get_template(f"{language.value}/{name}.j2")
    text = template.render(locale=LOCALES[language], long_date=_long_date(language), date_time=_date_time(language),
                           short_date_time=_short_date_time(language), short_date=_short_date(language),
                           full_date=_full_date(language), time_of_day=_time_of_day(language), **context).strip()
    return ABBREVIATED_YEAR_THEN_STOP.sub(".", text)


ABBREVIATED_YEAR_THEN_STOP = re.compile(r"(?<=\sг)\.\.(?!\.)")
"""Bulgarian and Russian dates end in 'г.' (the year, abbreviated): a sentence ending on one takes no second stop."""


def render_sms(language: Language | str, name: str, fold: bool = True, **context: object) -> str:
    """An SMS template rendered, then (the tenant's `sms_gsm_folding`, on by default) folded to GSM-7 where
    a look-alike exists, so accents alone never triple its cost."""
    text = render(language, name, **context)
    return fold_to_gsm7(text) if fold else text


def _long_date(language: Language):
    from babel.dates import format_date  # on the first render (cold start)

    def fmt(value: date) -> str:
        return format_date(value, format="long", locale=LOCALES[language])

    return fmt


def _plain_spaces(text: str) -> str:
    """CLDR puts narrow and plain no-break spaces in dates and times ('10:00\u202fAM'): not GSM-7, they would
    make an English SMS UCS-2 (70 characters a segment instead of 160)."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def _with_time(language: Language, day_part):
    from babel.dates import format_time  # on the first render (cold start)

    def fmt(value: datetime) -> str:
        """A local time (already in the clinic's zone), after its day: '<day>, 9:00 AM'."""
        return _plain_spaces(f"{day_part(value)}, {format_time(value, format='short', locale=LOCALES[language])}")

    return fmt


def _date_time(language: Language):
    """'Monday, November 30, 2026, 9:00 AM' (emails)."""
    from babel.dates import format_date  # on the first render (cold start)

    return _with_time(language, lambda value: format_date(value.date(), format="full", locale=LOCALES[language]))


def _full_date(language: Language):
    """'Tuesday, December 1, 2026' (a page's day headings)."""
    from babel.dates import format_date  # on the first render (cold start)

    return lambda value: format_date(value, format="full", locale=LOCALES[language])


def _time_of_day(language: Language):
    """'9:30 AM', '9:30' (a page's times, already in the clinic's zone)."""
    from babel.dates import format_time  # on the first render (cold start)

    return lambda value: _plain_spaces(format_time(value, format="short", locale=LOCALES[language]))


def _short_date_time(language: Language):
    """'Wed, Sep 30, 10:00 AM', 'mié, 30 sept, 10:00' (SMS, where every character counts)."""
    from babel.dates import format_skeleton  # on the first render (cold start)

    return _with_time(language, lambda value: format_skeleton("MMMEd", value, locale=LOCALES[language]))


def _short_date(language: Language):
    from babel.dates import format_skeleton  # on the first render (cold start)

    def fmt(value: date) -> str:
        """For SMS: 'Sep 10, 2026', '10 sept 2026'."""
        return _plain_spaces(format_skeleton("yMMMd", value, locale=LOCALES[language]))

    return fmt


def render_report(name: str, **context: object) -> str:
    """Staff-facing reports (templates/reports/), self-contained HTML."""
    return _environment().get_template(f"reports/{name}.j2").render(money=money, **context)


def money(amount: object, currency: str, language: Language | str = Language.EN) -> str:
    """An amount as the clinic's locale writes it ($1,350.00; 1350,00 €; 1 350,00 ₽)."""
    from babel.numbers import format_currency  # on the first render (cold start)

    return format_currency(Decimal(str(amount)), currency, locale=LOCALES[Language(language)])


def template_names() -> list[str]:
    return sorted(p.name.removesuffix(".j2") for p in (TEMPLATES / "en").glob("*.j2"))
