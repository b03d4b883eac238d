"""X9: every invitation parses under RFC 5545 with an IANA zone and its VTIMEZONE, and starts at the booked
instant, on either side of a DST change."""

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from revisit.invites import appointment_invite
from revisit.models.entities import Appointment


@pytest.mark.parametrize(("clinic_id", "starts_at"), [
    ("boston", "2026-11-02T09:00:00-05:00"),  # the Monday after the US change (EDT to EST, 1 November)
    ("boston", "2026-10-30T09:00:00-04:00"),  # the Friday before it
    ("madrid", "2026-10-26T09:00:00+01:00"),  # the Monday after the EU change (25 October)
    ("sofia", "2026-10-23T10:00:00+03:00"),
    ("novosibirsk", "2026-12-01T10:00:00+07:00"),
])
def test_an_invite_names_the_clinics_zone_with_its_vtimezone_and_starts_at_the_booked_instant(tenant, clinic_id,
                                                                                              starts_at):
    clinic = tenant.clinic(clinic_id)
    start = datetime.fromisoformat(starts_at)
    booked_at = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
    appointment = Appointment(appointment_id="a-1", patient_id="p-000001", clinic_id=clinic_id,
                              appointment_type="recall", provider_id="x", starts_at=start,
                              ends_at=start + timedelta(minutes=60), created_at=booked_at)
    parsed = Calendar.from_ical(appointment_invite(appointment, clinic, "Check-up", "noreply@clinic.example"))
    [event] = parsed.walk("VEVENT")
    assert [tz["TZID"] for tz in parsed.walk("VTIMEZONE")] == [clinic.time_zone]
    assert event["DTSTART"].params["TZID"] == clinic.time_zone
    assert event.decoded("DTSTART") == start and event.decoded("DTEND") == start + timedelta(minutes=60)
    assert str(event["UID"]) == "a-1@revisit" and event.decoded("SEQUENCE") == 0
    moved = appointment.model_copy(update={"starts_at": start + timedelta(days=7), "ends_at": start + timedelta(days=7, hours=1),
                                           "updated_at": booked_at + timedelta(days=2)})
    [again] = Calendar.from_ical(appointment_invite(moved, clinic, "Check-up", "noreply@clinic.example")).walk("VEVENT")
    assert str(again["UID"]) == "a-1@revisit" and again.decoded("SEQUENCE") > 0
    assert again.decoded("DTSTART") == start + timedelta(days=7)
