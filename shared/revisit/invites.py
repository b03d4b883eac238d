"""The .ics invitation attached to a booking confirmation (RFC 5545, via icalendar): times in the clinic's
IANA time zone with its VTIMEZONE (an offset such as TZID="-05:00" is not a zone and calendars read it as
floating time), a UID stable per appointment, a SEQUENCE that grows when it moves; METHOD:CANCEL with
STATUS:CANCELLED when it is cancelled, so the patient's calendar removes the entry."""

from __future__ import annotations

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

from revisit.models.entities import Appointment, AppointmentStatus
from revisit.models.tenant import Clinic


def appointment_invite(appointment: Appointment, clinic: Clinic, title: str, organizer: str) -> bytes:
    """REQUEST for a booked appointment, CANCEL for a cancelled one (same UID, a later SEQUENCE)."""
    from icalendar import Calendar, Event  # where used: only appointment emails carry an invite (cold start)

    cancelled = appointment.status == AppointmentStatus.CANCELLED
    zone = ZoneInfo(clinic.time_zone)

    calendar = Calendar()
    calendar.add("prodid", "-//Revisit//appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    # The UID stays the same when the appointment moves, so calendars update the entry instead of adding one;
    # SEQUENCE (seconds from booking to the last change) grows with every change, as RFC 5545 asks.
    event.add("uid", f"{appointment.appointment_id}@revisit")
    changed = appointment.updated_at or appointment.created_at
    event.add("sequence", max(0, int((changed - appointment.created_at).total_seconds())))
    event.add("dtstamp", changed.astimezone(UTC))
    event.add("dtstart", appointment.starts_at.astimezone(zone))
    event.add("dtend", (appointment.ends_at or appointment.starts_at).astimezone(zone))
    event.add("summary", f"{title} — {clinic.name}")
    event.add("location", clinic.address or clinic.name)
    event.add("organizer", f"mailto:{organizer}")
    if cancelled:
        event.add("status", "CANCELLED")
    calendar.add_component(event)
    around = appointment.starts_at.date()  # the zone's rules for the years around the visit, not since 1970
    calendar.add_missing_timezones(first_date=around - timedelta(days=366), last_date=around + timedelta(days=366))
    return calendar.to_ical()
