"""The .ics invitation attached to a booking confirmation (RFC 5545, via icalendar)."""

from __future__ import annotations

from icalendar import Calendar, Event

from revisit.models.entities import Appointment
from revisit.models.tenant import Clinic


def appointment_invite(appointment: Appointment, clinic: Clinic, title: str, organizer: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Revisit//appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = Event()
    # The UID stays the same when the appointment moves, so calendars update the entry instead of adding one.
    event.add("uid", f"{appointment.appointment_id}@revisit")
    event.add("dtstamp", appointment.updated_at or appointment.created_at)
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at or appointment.starts_at)
    event.add("summary", f"{title} — {clinic.name}")
    event.add("location", clinic.address or clinic.name)
    event.add("organizer", f"mailto:{organizer}")
    calendar.add_component(event)
    return calendar.to_ical()
