"""X11: the patient's own booking page, opened from the link in a recall message. It shows the free times of
the patient's clinic for the visit that is due and books one through the booking service (the same slot locks
and checks as the API: a time taken meanwhile says so and shows the next ones). The link is the credential;
the form also carries a token only the link's record can make (CSRF). Once booked, the link shows the booking."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from revisit import clock
from revisit.domain.availability import Slot
from revisit.errors import InvalidRequest, NotFound, SlotTaken
from revisit.models.entities import (
    Appointment,
    AppointmentStatus,
    BookingLink,
    ConfirmationStatus,
    LinkPurpose,
    Patient,
)
from revisit.models.tenant import Clinic
from revisit.services import booking
from revisit.services.booking_links import link_id_from
from revisit.services.confirmation import record_confirmation
from revisit.services.context import TenantContext
from revisit.services.patient_actions import open_cycle

BOOKED_BY = "patient-link"
"""Who booked, on the appointment: the patient, from their link."""
CANCELLED_FROM_LINK = "cancelled by the patient from the link in their message"
LEAD = timedelta(hours=2)
"""No time sooner than this is offered or booked from a link: the clinic gets notice, and a time does not pass
while the patient reads the page."""
DAYS_SHOWN, TIMES_PER_DAY = 5, 8
"""The first days with free times, and times a day spread over it, that one page shows ('Later dates' for more)."""


class PageState(StrEnum):
    OPEN = "open"
    """A recall cycle's link: free times to pick from."""
    BOOKED = "booked"
    MANAGE = "manage"
    """An appointment's link: its time, with Confirm and Cancel."""
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    CLOSED = "closed"
    """The recall this link was for has ended (booked another way, declined, closed by the clinic)."""
    INVALID = "invalid"


@dataclass(frozen=True)
class BookingPage:
    state: PageState
    language: str
    clinic: Clinic | None = None
    appointment_type: str = ""
    days: list[tuple[date, list[Slot]]] = field(default_factory=list)
    """Free times per day in the clinic's time, one per start time (the first free provider's)."""
    next_from: date | None = None
    form_token: str = ""
    appointment: Appointment | None = None
    notice: str | None = None
    """What just happened: 'taken' (the chosen time is no longer free: booked by someone else a moment before, or
    passed), 'confirmed', 'ask-cancel' (the patient tapped Cancel: the page asks them to say it once more)."""
    recall_types: list[str] = field(default_factory=list)
    """A recall cycle's link: what is due, named on the page as the message named it."""


def open_page(ctx: TenantContext, token: str, from_day: date | None = None) -> BookingPage:
    """Raises InvalidRequest('from') for a first day past the tenant's window."""
    found = _link(ctx, token)
    if isinstance(found, BookingPage):
        return found
    link, patient = found
    if link.purpose == LinkPurpose.APPOINTMENT:
        return _appointment_page(ctx, link, patient)
    return _state(ctx, link, patient) or _slots_page(ctx, link, patient, from_day)


def submit(ctx: TenantContext, token: str, form: dict[str, str]) -> BookingPage:
    """The page's form: a time to book (a recall cycle's link) or confirm / cancel (an appointment's). Raises
    InvalidRequest naming the field for a form this page did not make (`form_token`) or a value it does not
    offer (`slot`, `action`); a time taken meanwhile is the page again, saying so, with the next free times."""
    found = _link(ctx, token)
    if isinstance(found, BookingPage):
        return found
    link, patient = found
    if not hmac.compare_digest(_field(form, "form_token").encode(), _form_token(link).encode()):
        raise InvalidRequest("form_token", "this form did not come from the link's page; open the link again")
    if link.purpose == LinkPurpose.APPOINTMENT:
        return _answer(ctx, link, patient, _field(form, "action"))
    ended = _state(ctx, link, patient)
    if ended is not None:
        return ended
    provider_id, starts_at = _chosen(_field(form, "slot"))
    zone = ZoneInfo(ctx.config.clinic(link.clinic_id).time_zone)

    def gone() -> BookingPage:
        """The page again from the chosen day, saying that time is no longer free."""
        return _slots_page(ctx, link, patient, starts_at.astimezone(zone).date(), notice="taken")

    if not _offerable(ctx, link, starts_at):  # sooner than the lead time (passed while the page was open)
        return _slots_page(ctx, link, patient, None, notice="taken")
    request = booking.BookingRequest(patient.patient_id, link.clinic_id, link.appointment_type, provider_id, starts_at)
    try:
        booked = booking.book(ctx, request, BOOKED_BY, idempotency_key=link.link_id)
    except SlotTaken:
        return gone()
    except InvalidRequest as refused:
        if refused.field == "Idempotency-Key":
            # Another tab of the same page booked another time first: that booking stands.
            return _state(ctx, ctx.tables.booking_links.get(link.link_id) or link, patient) or gone()
        if refused.field in ("provider_id", "starts_at"):  # not a time this page offers (any more)
            return gone()
        raise
    ctx.tables.booking_links.booked(link, booked.appointment)
    return _page(ctx, PageState.BOOKED, link, patient, appointment=booked.appointment)


def _appointment_page(ctx: TenantContext, link: BookingLink, patient: Patient, notice: str | None = None) -> BookingPage:
    """An appointment's link: confirm or cancel it until it starts (moved, it follows the new time)."""
    assert link.appointment_id is not None
    try:
        appointment = ctx.tables.appointments.get(patient.patient_id, link.appointment_id)
    except NotFound:
        return BookingPage(PageState.INVALID, ctx.config.default_language)
    if appointment.status == AppointmentStatus.CANCELLED:
        return _page(ctx, PageState.CANCELLED, link, patient, appointment=appointment)
    if appointment.status != AppointmentStatus.BOOKED or clock.now() >= appointment.starts_at:
        return _page(ctx, PageState.EXPIRED, link, patient)
    return _page(ctx, PageState.MANAGE, link, patient, appointment=appointment, notice=notice)


def _answer(ctx: TenantContext, link: BookingLink, patient: Patient, action: str) -> BookingPage:
    if action not in ("confirm", "cancel", "cancel-yes"):
        raise InvalidRequest("action", "is confirm, cancel or cancel-yes")
    page = _appointment_page(ctx, link, patient)
    if page.state != PageState.MANAGE or page.appointment is None:
        return page  # cancelled already, passed, or not valid: a second tap changes nothing
    if action == "confirm":
        record_confirmation(ctx, page.appointment, answer=ConfirmationStatus.CONFIRMED)
        return _appointment_page(ctx, link, patient, notice="confirmed")
    if action == "cancel":  # a mistaken tap on a phone cancels nothing: the page asks once more
        return _appointment_page(ctx, link, patient, notice="ask-cancel")
    booking.change_status(ctx, patient.patient_id, page.appointment.appointment_id, AppointmentStatus.CANCELLED,
                          CANCELLED_FROM_LINK)
    return _appointment_page(ctx, link, patient)


def language_of(ctx: TenantContext, token: str) -> str:
    """The language a link's pages are in (its patient's), for an error page; the tenant's for an unknown link."""
    found = _link(ctx, token)
    return found.language if isinstance(found, BookingPage) else found[1].language


def _link(ctx: TenantContext, token: str) -> tuple[BookingLink, Patient] | BookingPage:
    invalid = BookingPage(PageState.INVALID, ctx.config.default_language)
    link_id = link_id_from(token)
    link = ctx.tables.booking_links.get(link_id) if link_id else None
    if link is None:
        return invalid
    try:
        patient = ctx.tables.patients.get(link.patient_id)
    except NotFound:
        return invalid
    return link, patient


def _state(ctx: TenantContext, link: BookingLink, patient: Patient) -> BookingPage | None:
    """The page when the link no longer books: booked from it, expired, or its recall ended."""
    if link.appointment_id is not None:
        try:
            appointment = ctx.tables.appointments.get(patient.patient_id, link.appointment_id)
        except NotFound:
            appointment = None
        if appointment is not None and appointment.status == AppointmentStatus.BOOKED:
            return _page(ctx, PageState.BOOKED, link, patient, appointment=appointment)
        if appointment is not None and appointment.status == AppointmentStatus.CANCELLED:
            return _page(ctx, PageState.CANCELLED, link, patient, appointment=appointment)
        return _page(ctx, PageState.CLOSED, link, patient)
    if clock.now() >= link.valid_until:
        return _page(ctx, PageState.EXPIRED, link, patient)
    cycle = open_cycle(ctx, patient.patient_id)
    if cycle is None or cycle.cycle_id != link.cycle_id:
        return _page(ctx, PageState.CLOSED, link, patient)
    return None


def _slots_page(ctx: TenantContext, link: BookingLink, patient: Patient, from_day: date | None,
                notice: str | None = None) -> BookingPage:
    clinic = ctx.config.clinic(link.clinic_id)
    settings = ctx.config.self_scheduling
    today = clock.now().astimezone(ZoneInfo(clinic.time_zone)).date()
    window_end = today + timedelta(days=settings.window_days)
    if from_day is not None and from_day > window_end:
        raise InvalidRequest("from", f"at most {settings.window_days} days ahead")
    first = max(from_day or today, today)
    last = min(first + timedelta(days=settings.search_days - 1), window_end)
    found = booking.availability(ctx, clinic.clinic_id, link.appointment_type, first, last)
    days: dict[date, dict[datetime, Slot]] = {}
    zone = ZoneInfo(clinic.time_zone)
    for slot in found.slots:  # in time order, then by provider: the first provider free at a time offers it
        if slot.starts_at >= clock.now() + LEAD:
            days.setdefault(slot.starts_at.astimezone(zone).date(), {}).setdefault(slot.starts_at, slot)
    shown = sorted(days.items())[:DAYS_SHOWN]
    next_from = shown[-1][0] + timedelta(days=1) if len(shown) == DAYS_SHOWN else last + timedelta(days=1)
    next_from = next_from if next_from <= window_end else None
    cycle = ctx.tables.cycles.get(patient.patient_id, link.cycle_id) if link.cycle_id else None
    return _page(ctx, PageState.OPEN, link, patient, notice=notice, next_from=next_from,
                 recall_types=cycle.recall_types if cycle else [],
                 days=[(day, _spread(list(times.values()))) for day, times in shown])


def _offerable(ctx: TenantContext, link: BookingLink, starts_at: datetime) -> bool:
    """Within what a link's page offers: after the lead time, within the tenant's window of days."""
    today = clock.now().astimezone(ZoneInfo(ctx.config.clinic(link.clinic_id).time_zone)).date()
    return clock.now() + LEAD <= starts_at and starts_at.date() <= today + timedelta(
        days=ctx.config.self_scheduling.window_days + 1)


def _spread(times: list[Slot]) -> list[Slot]:
    """At most TIMES_PER_DAY, from the first to the last of the day: a choice a phone screen can show."""
    if len(times) <= TIMES_PER_DAY:
        return times
    step = (len(times) - 1) / (TIMES_PER_DAY - 1)
    return [times[round(i * step)] for i in range(TIMES_PER_DAY)]


def _page(ctx: TenantContext, state: PageState, link: BookingLink, patient: Patient, **details) -> BookingPage:
    return BookingPage(state, patient.language, ctx.config.clinic(link.clinic_id), link.appointment_type,
                       form_token=_form_token(link) if state in (PageState.OPEN, PageState.MANAGE) else "", **details)


def _form_token(link: BookingLink) -> str:
    return hmac.new(link.form_key.encode(), f"book/{link.link_id}".encode(), hashlib.sha256).hexdigest()[:32]


def _field(form: dict[str, str], name: str) -> str:
    value = form.get(name) or ""
    if not value or len(value) > 200:
        raise InvalidRequest(name, "missing from the form")
    return value


def _chosen(slot: str) -> tuple[str, datetime]:
    provider_id, _, starts = slot.partition("|")
    try:
        starts_at = datetime.fromisoformat(starts)
    except ValueError:
        raise InvalidRequest("slot", "is not a time from the page") from None
    if not provider_id or starts_at.tzinfo is None:
        raise InvalidRequest("slot", "is not a time from the page")
    return provider_id, starts_at
