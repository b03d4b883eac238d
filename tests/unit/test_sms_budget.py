"""X6: every SMS template, rendered with the longest realistic values in each language (long first names, a
clinic's SMS name of the longest length allowed in the alphabet of the language, the tenant's longest labels
and the two longest recall labels together, every date of a year in the locale, the longest instructions a
tenant may write), stays within its segment budget (domain/sms.py)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from revisit.domain.sms import SMS_LINK_BASE_MAX, segment_budget, sms_segments
from revisit.models.common import Language
from revisit.models.tenant import INSTRUCTIONS_MAX, LABEL_MAX, SMS_NAME_MAX
from revisit.rendering import render_sms, template_names
from revisit.services.recall import sms_recall_label

LONG_FIRST_NAMES = {"en": "Christopher", "es": "Maximiliano", "bg": "Александрина", "ru": "Константина"}
LONG_CLINIC_NAMES = {"en": "Bright Smile Dental Care", "es": "Clinica Dental Sonrisa", "bg": "Дентален център Усмивка",
                     "ru": "Стоматология Улыбка 24"}
LONG_INSTRUCTIONS = {"en": "Please arrive 15 minutes early. ", "es": "Llegue 15 minutos antes, gracias. ",
                     "bg": "Моля, елате 15 минути по-рано. ", "ru": "Приходите за 15 минут до приёма. "}
SMS_TEMPLATES = [name for name in template_names() if name.endswith("_sms.txt")]
LONGEST_LINK = "https://" + "b" * (SMS_LINK_BASE_MAX - len("https://")) + "/b/" + "x" * 20
"""X11: the self-booking link from the longest public address a tenant may give for SMS links."""


def test_the_long_names_are_as_long_as_a_clinic_may_have():
    assert {len(name) for name in LONG_CLINIC_NAMES.values()} <= set(range(SMS_NAME_MAX - 2, SMS_NAME_MAX + 1))


def as_long_as_allowed(label: str) -> str:
    """The tenant's longest label, padded to the longest a tenant file may hold."""
    return label.ljust(LABEL_MAX, label[-1])


def longest(values):
    return max(values, key=len)


def worst_case(tenant, language: str) -> dict:
    instructions = (LONG_INSTRUCTIONS[language] * 10)[:INSTRUCTIONS_MAX].strip()
    return {"first_name": LONG_FIRST_NAMES[language], "last_name": "Featherstonehaugh",
            "clinic_name": LONG_CLINIC_NAMES[language], "clinic_phone": "+359888123456",
            "clinic_address": longest([c.address for c in tenant.clinics]),
            "due_for": sms_recall_label([as_long_as_allowed(longest(
                [rt.labels.get(language) or rt.labels["en"] for rt in tenant.recall_types]))] * len(tenant.recall_types),
                language),
            "ask": True, "rebook": False, "moved": False, "visit": as_long_as_allowed(longest([t.labels.get(language) or t.labels["en"] for t in tenant.appointment_types])),
            "instructions": instructions, "notice": "reminder", "unsubscribe_url": None, "treatment": "prosthesis",
            "booking_url": None, "manage_url": None}


def rendered_sizes(tenant, language: str, name: str, link: str | None = None):
    """Every date of a year (the longest month and weekday names in the locale), overdue or not."""
    values = worst_case(tenant, language) | {"booking_url": link, "manage_url": link}
    for n in range(0, 365, 1):
        day = date(2026, 1, 1) + timedelta(days=n)
        at = datetime(day.year, day.month, day.day, 10, 0, tzinfo=ZoneInfo("America/New_York"))
        for overdue, rebook in ((False, False), (True, False), (True, True)):
            text = render_sms(language, name, True, **(values | {"rebook": rebook}), overdue=overdue, due_date=day,
                              suggested_date=day, starts_at=at)
            yield sms_segments(text), text


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("name", SMS_TEMPLATES)
def test_every_sms_template_stays_within_its_segment_budget(tenant, language, name):
    worst, text = max(rendered_sizes(tenant, language.value, name), key=lambda found: found[0].units)
    budget = segment_budget(name.removesuffix(".txt"), worst.encoding, link=False)
    assert worst.segments <= budget, f"{language}/{name}: {worst.segments} {worst.encoding} segments " \
                                     f"({worst.units} units) over a budget of {budget}: {text!r}"


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("name", ["recall_sms", "appointment_confirmation_sms", "appointment_reminder_sms"])
def test_an_sms_with_the_longest_link_stays_within_one_segment_more(tenant, language, name):
    """X6 and X11: the link (to book, or to change or cancel) replaces the phone clause; from the longest address
    allowed it costs one segment."""
    worst, text = max(rendered_sizes(tenant, language.value, f"{name}.txt", LONGEST_LINK),
                      key=lambda found: found[0].units)
    assert LONGEST_LINK in text
    budget = segment_budget(name, worst.encoding)
    assert budget == segment_budget(name, worst.encoding, link=False) + 1
    assert worst.segments <= budget, f"{language}: {worst.segments} {worst.encoding} segments ({worst.units} units)"


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("name", SMS_TEMPLATES)
def test_english_and_spanish_sms_stay_gsm7_once_folded(tenant, language, name):
    assert all(size.encoding == "GSM-7" for size, _ in rendered_sizes(tenant, language, name))


@pytest.mark.parametrize("language", ["en", "es", "bg", "ru"])
@pytest.mark.parametrize("treatment", ["orthodontics", "prosthesis", "periodontal", "general"])
def test_every_reactivation_sms_fits_its_budget_for_every_treatment(tenant, language, treatment):
    """A3: each segment's own message, with the longest names, stays within the language's budget."""
    text = render_sms(language, "reactivation_sms.txt", True, **(worst_case(tenant, language) | {"treatment": treatment}))
    found = sms_segments(text)
    assert found.segments <= segment_budget("reactivation_sms", found.encoding), text
