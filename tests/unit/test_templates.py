from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from jinja2 import UndefinedError
from revisit.domain.sms import sms_segments
from revisit.models.common import Language
from revisit.rendering import render, template_names

CONTEXT = dict(first_name="Ana", last_name="Ruiz", clinic_name="Smile Circle", clinic_phone="+34915550100",
               clinic_address="Calle 1", due_for="check-up", due_date=date(2026, 12, 1),
               suggested_date=date(2026, 12, 2), tenant_name="Chain", run_date=date(2026, 11, 24),
               due_next_30_days=3, in_recall=5, report_keys=["reports/x.csv"], pending_cases=4, manual_review=1,
               visit="check-up", starts_at=datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Europe/Madrid")),
               instructions="Do not eat for 6 hours.", text="Dear Ana,\n\nYour visit.", overdue=False,
               unsubscribe_url="https://api.example.org/v1/unsubscribe/abc.def", state="ask", kind="recall", notice="reminder", ask=True, rebook=False, moved=False,
               event="call_no_answer", doctor="Dr. Alice Moreno", procedure="crown check", late=False, attempt=1,
               attempts=3, next_call=date(2026, 12, 2), appointment_at=datetime(2026, 12, 3, 10, 0), reason_label="cost",
               wants_contact_later=False, lead_id="ord-1", registrar="Chris Dole", patient_id="p-000001",
               comment="Dr. Alice Moreno ordered a crown check by December 15, 2026.", treatment="prosthesis",
               booking_url="https://book.example.org/b/AbCdEfGhIjKlMnOpQrSt", link_days=30,
               manage_url="https://book.example.org/b/ZyXwVuTsRqPoNmLkJiHg", confirmed=False, error=None, taken=False,
               days=[(date(2026, 12, 1), [("hyg-1|2026-12-01T09:00:00-05:00", datetime(2026, 12, 1, 9, 0))])],
               next_from=date(2026, 12, 15), form_token="0" * 32, booked_at=datetime(2026, 12, 1, 9, 0))


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("name", template_names())
def test_every_template_renders_in_every_language(language, name):
    text = render(language, name, **CONTEXT)
    assert text.strip()


def test_a_missing_variable_is_an_error_not_a_blank():
    with pytest.raises(UndefinedError):
        render("en", "recall_sms.txt", first_name="Ana")


def test_dates_are_formatted_for_the_locale():
    assert "1 dic 2026" in render("es", "recall_sms.txt", **CONTEXT)  # SMS: the short form
    assert "Dec 1, 2026" in render("en", "recall_sms.txt", **CONTEXT)
    assert "1 дек. 2026" in render("ru", "recall_sms.txt", **CONTEXT)
    assert "1 de diciembre de 2026" in render("es", "recall_email.txt", **CONTEXT)  # email: the long one
    assert "December 1, 2026" in render("en", "recall_email.txt", **CONTEXT)


def test_english_recall_sms_fits_one_segment_and_cyrillic_costs_more():
    assert sms_segments(render("en", "recall_sms.txt", **CONTEXT | {"booking_url": None})).segments == 1
    assert sms_segments(render("en", "recall_sms.txt", **CONTEXT)).segments == 1  # short names leave room for the link
    assert sms_segments(render("bg", "recall_sms.txt", **CONTEXT)).encoding == "UCS-2"


def test_appointment_times_are_local_and_localized():
    assert "Mon, Nov 30, 9:00 AM" in render("en", "appointment_reminder_sms.txt", **CONTEXT)
    assert "lun, 30 nov, 9:00" in render("es", "appointment_reminder_sms.txt", **CONTEXT)
    assert "Monday, November 30, 2026, 9:00 AM" in render("en", "appointment_confirmation_email.txt", **CONTEXT)


def test_an_english_appointment_sms_stays_gsm7():
    assert sms_segments(render("en", "appointment_confirmation_sms.txt", **CONTEXT)).encoding == "GSM-7"


@pytest.mark.parametrize("language", list(Language))
def test_no_doubled_full_stop_after_a_date_that_ends_in_one(language):
    for name in ("recall_sms.txt", "appointment_reminder_sms.txt"):
        assert ".." not in render(language, name, **CONTEXT)


@pytest.mark.parametrize(("language", "due", "past"), [
    ("en", "is due Dec 1", "was due Dec 1"), ("es", "el 1 dic", "desde el 1 dic"),
    ("bg", "до 1.12.2026", "срок 1.12.2026"), ("ru", "до 1 дек.", ", срок 1 дек.")])
def test_an_overdue_patient_is_not_told_to_come_by_a_date_that_has_passed(language, due, past):
    assert due in render(language, "recall_sms.txt", **CONTEXT)
    overdue_sms = render(language, "recall_sms.txt", **{**CONTEXT, "overdue": True})
    assert past in overdue_sms and due not in overdue_sms.replace(past, "")
    for name in ("recall_email.txt", "recall_email.html"):
        assert render(language, name, **{**CONTEXT, "overdue": True}) != render(language, name, **CONTEXT)


@pytest.mark.parametrize("language", list(Language))
def test_a_leads_comment_says_who_ordered_what_by_when_and_what_each_call_gave(language):
    """F2, F8: the comment is generated in the clinic's language from the order and the call's answers."""
    ordered = render(language, "lead_comment.txt", **{**CONTEXT, "event": "ordered", "due_date": date(2026, 12, 15)})
    assert "Dr. Alice Moreno" in ordered and "crown check" in ordered and "2026" in ordered
    outcomes = {event: render(language, "lead_comment.txt", **{**CONTEXT, "event": event})
                for event in ("call_booked", "call_refused", "call_no_answer")}
    assert len(set(outcomes.values())) == 3 and all(text.strip() for text in outcomes.values())
    never = render(language, "lead_comment.txt", **{**CONTEXT, "event": "call_no_answer", "attempt": 3, "next_call": None})
    assert never != outcomes["call_no_answer"]
