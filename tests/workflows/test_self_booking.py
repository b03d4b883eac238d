"""X11 end to end: the recall SMS and email carry the patient's short self-booking link; through the offline API
Gateway, without any credential, the link's page shows the clinic's free times in the patient's language and
books one through the booking service; the recall cycle ends Booked and the ladder sends nothing more. A taken
time, a tampered or expired link, another site's form and a forged form token each get their answer."""

import re
from datetime import datetime, timedelta
from html import unescape
from urllib.parse import urlsplit

from revisit.models.entities import AppointmentStatus, CycleStatus
from revisit.offline.gateway import Gateway
from revisit.services import booking

from tests.conftest import make_patient

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
LINK = re.compile(r"http://127\.0\.0\.1:8080/b/[A-Za-z0-9_-]{20}")


def link_in_recall_sms(harness, patient):
    harness.stack.tables.patients.save(patient)
    arn = harness.start_recall(patient)
    harness.advance(1)
    [sms] = [m for m in harness.sms() if m[0] == patient.phone]
    found = LINK.findall(sms[1])
    assert len(found) == 1, sms[1]
    return arn, urlsplit(found[0]).path, sms[1]


def times_on(page: str) -> list[str]:
    return [unescape(v) for v in re.findall(r'name="slot" value="([^"]+)"', page)]


def form_token(page: str) -> str:
    return re.search(r'name="form_token" value="([0-9a-f]+)"', page).group(1)


def post(gateway, path, slot, token, headers=None):
    from urllib.parse import urlencode

    return gateway.request("POST", path, urlencode({"form_token": token, "slot": slot}), FORM | (headers or {}))


def test_a_patient_books_from_the_link_in_the_recall_sms_and_the_cycle_ends_booked(harness):
    patient = make_patient()
    arn, path, _ = link_in_recall_sms(harness, patient)
    assert patient.first_name not in path and patient.patient_id not in path
    gateway = Gateway(harness.stack)

    page = gateway.request("GET", path)
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    assert page.headers["Cache-Control"] == "no-store" and "form-action 'self'" in page.headers["Content-Security-Policy"]
    assert "Book your check-up and cleaning at Smile Circle Boston" in page.body
    assert patient.first_name not in page.body and patient.last_name not in page.body  # a forwarded link tells nothing
    times = times_on(page.body)
    assert len(times) > 10 and all("|" in t for t in times)

    done = post(gateway, path, times[0], form_token(page.body))
    assert done.status == 200 and "You are booked" in done.body
    [appointment] = harness.ctx.tables.appointments.for_patient(patient.patient_id)
    assert appointment.booked_by == "patient-link" and appointment.status == AppointmentStatus.BOOKED
    provider_id, starts = times[0].split("|")
    assert (appointment.provider_id, appointment.starts_at) == (provider_id, datetime.fromisoformat(starts))
    assert harness.ctx.tables.cycles.get(patient.patient_id, "2026-11-30").status == CycleStatus.BOOKED

    again = post(gateway, path, times[0], form_token(page.body))  # a double tap
    later = post(gateway, path, times[3], form_token(page.body))  # another time, from a tab left open
    reopened = gateway.request("GET", path)
    assert all(a.status == 200 and "You are booked" in a.body for a in (again, later, reopened))
    assert len(harness.ctx.tables.appointments.for_patient(patient.patient_id)) == 1

    assert harness.finish(arn)["status"] == "SUCCEEDED"
    assert len([m for m in harness.sms() if m[0] == patient.phone and LINK.search(m[1])]) == 1  # no more rungs


def test_the_email_carries_the_same_link_as_the_sms_of_the_same_cycle(harness):
    patient = make_patient()
    _, path, _ = link_in_recall_sms(harness, patient)
    link_id = path.removeprefix("/b/")
    from revisit.services.booking_links import booking_url

    cycle = harness.ctx.tables.cycles.get(patient.patient_id, "2026-11-30")
    url = booking_url(harness.ctx, cycle)
    assert url is not None and url.endswith(link_id)  # one link per cycle, whatever carries it


def test_a_time_taken_meanwhile_says_so_and_offers_the_next_ones(harness):
    patient = make_patient()
    _, path, _ = link_in_recall_sms(harness, patient)
    gateway = Gateway(harness.stack)
    page = gateway.request("GET", path)
    chosen = times_on(page.body)[0]
    provider_id, starts = chosen.split("|")
    other = make_patient("p-000077", phone="+16175550177")
    harness.stack.tables.patients.save(other)
    # The front desk books that provider at that time for someone else while the page is open.
    booking.book(harness.ctx, booking.BookingRequest(other.patient_id, "boston", "recall", provider_id,
                                                     datetime.fromisoformat(starts)), "front-desk")
    answer = post(gateway, path, chosen, form_token(page.body))
    assert answer.status == 200 and "that time is no longer free" in answer.body
    assert chosen not in times_on(answer.body) and times_on(answer.body)
    assert harness.ctx.tables.appointments.for_patient(patient.patient_id) == []
    assert harness.ctx.tables.cycles.get(patient.patient_id, "2026-11-30").status.is_open


def test_tampered_expired_cross_site_and_forged_forms_book_nothing(harness):
    patient = make_patient()
    _, path, _ = link_in_recall_sms(harness, patient)
    gateway = Gateway(harness.stack)
    page = gateway.request("GET", path)
    slot, token = times_on(page.body)[0], form_token(page.body)
    link_id = path.removeprefix("/b/")

    tampered = "/b/" + ("A" if link_id[0] != "A" else "B") + link_id[1:]
    for bad in (tampered, "/b/short", "/b/" + "x" * 21, "/b/"):
        answer = gateway.request("GET", bad)
        assert answer.status == 404 and "This link is not valid" in answer.body, bad
        assert post(gateway, bad, slot, token).status == 404

    forged = post(gateway, path, slot, "0" * 32)
    assert forged.status == 422 and "form_token" in forged.body
    cross_site = post(gateway, path, slot, token, {"Origin": "https://evil.example"})
    assert cross_site.status == 403 and "Origin" in cross_site.body
    fetched = post(gateway, path, slot, token, {"Sec-Fetch-Site": "cross-site"})
    assert fetched.status == 403
    not_a_time = post(gateway, path, "boston-hyg-1|tomorrow", token)
    assert not_a_time.status == 422 and "slot" in not_a_time.body
    for bad_day in ("next-week", "9999-12-31", "2027-03-01"):  # past the 90 days a link books in
        answer = gateway.request("GET", path + f"?from={bad_day}")
        assert answer.status == 422 and "from" in answer.body, bad_day
    now = harness.stack.clock.now()
    soon = (now + timedelta(minutes=75)).replace(minute=0 if now.minute < 45 else 15, second=0, microsecond=0)
    assert now < soon < now + timedelta(hours=2)
    too_soon = post(gateway, path, f"{slot.split('|')[0]}|{soon.isoformat()}", token)  # sooner than 2 hours
    assert too_soon.status == 200 and "that time is no longer free" in too_soon.body
    assert harness.ctx.tables.appointments.for_patient(patient.patient_id) == []

    harness.advance(60)  # past 30 days after the ladder's last message, which extended the link
    expired = gateway.request("GET", path)
    assert expired.status == 410 and "expired" in expired.body and "+1617" in expired.body.replace(" ", "")
    assert post(gateway, path, slot, token).status == 410
    assert harness.ctx.tables.appointments.for_patient(patient.patient_id) == []


def test_an_appointment_email_links_to_confirming_or_cancelling_it_online(harness):
    """X11: the confirmation email's link; Confirm records the patient's answer, Cancel asks once more, then
    cancels through the booking service (the calendar update and the recall loop follow, as for any cancel)."""
    from email import message_from_bytes, policy

    from revisit.models.entities import ConfirmationStatus

    patient = make_patient(sms_consent=False)
    harness.stack.tables.patients.save(patient)
    booked = booking.book(harness.ctx, booking.BookingRequest(patient.patient_id, "boston", "recall", "boston-hyg-1",
                                                              datetime.fromisoformat("2026-12-08T09:00:00-05:00")),
                          "front-desk").appointment
    harness.driver.settle()
    harness.advance(1)
    [email] = harness.emails()
    raw = email.raw_data.encode() if isinstance(email.raw_data, str) else email.raw_data
    parsed = message_from_bytes(raw, policy=policy.default)
    [link] = set(LINK.findall(parsed.get_body(preferencelist=("plain",)).get_content()))
    assert f'href="{link}"' in parsed.get_body(preferencelist=("html",)).get_content()
    path = urlsplit(link).path
    gateway = Gateway(harness.stack)

    page = gateway.request("GET", path)
    assert page.status == 200 and "Your appointment" in page.body and "Tuesday, December 8, 2026, 9:00 AM" in page.body
    token = form_token(page.body)
    confirmed = gateway.request("POST", path, f"form_token={token}&action=confirm", FORM)
    assert confirmed.status == 200 and "your appointment is confirmed" in confirmed.body
    stored = harness.ctx.tables.appointments.get(patient.patient_id, booked.appointment_id)
    assert stored.confirmation == ConfirmationStatus.CONFIRMED and 'value="confirm"' not in confirmed.body

    asked = gateway.request("POST", path, f"form_token={token}&action=cancel", FORM)  # a tap on Cancel
    assert asked.status == 200 and "Cancel this appointment?" in asked.body
    assert harness.ctx.tables.appointments.get(patient.patient_id, booked.appointment_id).status == AppointmentStatus.BOOKED
    for _ in range(2):  # and a double tap on Yes
        done = gateway.request("POST", path, f"form_token={token}&action=cancel-yes", FORM)
        assert done.status == 200 and "Your appointment is cancelled" in done.body
    stored = harness.ctx.tables.appointments.get(patient.patient_id, booked.appointment_id)
    assert stored.status == AppointmentStatus.CANCELLED and "from the link" in (stored.cancel_reason or "")
    assert gateway.request("POST", path, f"form_token={token}&action=delete", FORM).status == 422


def test_error_pages_speak_the_patients_language_and_a_cancelled_booking_says_so(harness):
    patient = make_patient("p-000003", clinic_id="sofia", language="bg", phone="+359888100200")
    _, path, _ = link_in_recall_sms(harness, patient)
    gateway = Gateway(harness.stack)
    page = gateway.request("GET", path)
    assert page.status == 200 and '<html lang="bg">' in page.body
    forged = post(gateway, path, times_on(page.body)[0], "0" * 32)
    assert forged.status == 422 and '<html lang="bg">' in forged.body and "form_token" in forged.body

    assert "Часът ви е запазен" in post(gateway, path, times_on(page.body)[0], form_token(page.body)).body
    [appointment] = harness.ctx.tables.appointments.for_patient(patient.patient_id)
    booking.change_status(harness.ctx, patient.patient_id, appointment.appointment_id, AppointmentStatus.CANCELLED,
                          "patient called")
    again = gateway.request("GET", path)
    assert again.status == 200 and "Часът ви е отменен" in again.body
