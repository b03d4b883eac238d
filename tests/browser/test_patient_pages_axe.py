"""Every patient page in Chromium with axe (no serious or critical violation), each state of it: the booking
link's free times, booked, expired, not valid, a refused form (in Bulgarian), and the appointment link's
confirm-or-cancel page, its cancel question and the cancelled page. The pages are made by the API function
through the offline gateway (weeks pass in seconds), then shown in the browser as the patient's phone would."""

import re
from datetime import datetime
from urllib.parse import urlencode, urlsplit

import pytest
from revisit.offline.gateway import Gateway
from revisit.offline.stack import OfflineStack
from revisit.services import booking
from revisit.services.booking_links import appointment_url, booking_url

from tests.browser.test_self_booking_browser import CHROMIUM, accessibility_problems, screenshot
from tests.conftest import DEMO_TENANT, START, make_patient

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: `make test` installs the Debian package")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def token_of(page: str) -> str:
    return re.search(r'name="form_token" value="([0-9a-f]+)"', page).group(1)


def test_every_state_of_the_patients_pages_passes_axe(browser):
    pages = {}
    with OfflineStack(DEMO_TENANT, START) as stack:
        from revisit.lambda_runtime import tenant_context

        ctx = tenant_context()
        gateway = Gateway(stack)
        patient = make_patient(email="emma@mail.example.com")
        bulgarian = make_patient("p-000003", clinic_id="sofia", language="bg", phone="+359888100200")
        for someone in (patient, bulgarian):
            stack.tables.patients.save(someone)
        from revisit.models.steps.recall import OpenRecallRequest
        from revisit.services import recall

        for someone in (patient, bulgarian):
            recall.open_recall(OpenRecallRequest(patient_id=someone.patient_id, clinic_id=someone.clinic_id,
                                                 recall_due_date="2026-11-30",
                                                 execution_name=f"recall-{someone.patient_id}-20261130"), ctx)
        link = urlsplit(booking_url(ctx, ctx.tables.cycles.get(patient.patient_id, "2026-11-30"))).path
        bg_link = urlsplit(booking_url(ctx, ctx.tables.cycles.get(bulgarian.patient_id, "2026-11-30"))).path
        pages["booking-times"] = gateway.request("GET", link).body
        pages["booking-refused-form-bg"] = gateway.request("POST", bg_link, "form_token=0&slot=x", FORM).body
        pages["booking-link-not-valid"] = gateway.request("GET", "/b/" + "A" * 20).body
        slot = re.search(r'name="slot" value="([^"]+)"', pages["booking-times"]).group(1).replace("&#43;", "+")
        pages["booking-booked"] = gateway.request("POST", link, urlencode(
            {"form_token": token_of(pages["booking-times"]), "slot": slot}), FORM).body

        booked = booking.book(ctx, booking.BookingRequest(bulgarian.patient_id, "sofia", "recall", "sofia-dds-1",
                                                          datetime.fromisoformat("2026-12-08T09:00:00+02:00")),
                              "front-desk").appointment
        manage = urlsplit(appointment_url(ctx, booked)).path
        pages["appointment-confirm-or-cancel-bg"] = gateway.request("GET", manage).body
        token = token_of(pages["appointment-confirm-or-cancel-bg"])
        pages["appointment-cancel-question-bg"] = gateway.request("POST", manage, f"form_token={token}&action=cancel",
                                                                   FORM).body
        pages["appointment-cancelled-bg"] = gateway.request("POST", manage, f"form_token={token}&action=cancel-yes",
                                                             FORM).body
        stack.clock.advance_to(stack.clock.now().replace(year=2027, month=3))  # past every link's days
        pages["booking-link-expired-bg"] = gateway.request("GET", bg_link).body

    assert "Часът ви е отменен" in pages["appointment-cancelled-bg"]
    assert "You are booked" in pages["booking-booked"] and "expired" not in pages["booking-times"]
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = phone.new_page()
    for name, html in pages.items():
        page.set_content(html)
        assert accessibility_problems(page) == [], name
        screenshot(page, f"patient-{name}")
    phone.close()
