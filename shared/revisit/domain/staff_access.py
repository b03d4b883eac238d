"""Who on the clinic's staff sees what in the console (issue 15): each role what its work needs and nothing
more. A staff member of one clinic sees only that clinic; one of the whole chain (no clinic) sees every clinic.
The API enforces this on every staff route; the console only hides what the API would refuse."""

from __future__ import annotations

from enum import StrEnum

from revisit.models.common import Role


class View(StrEnum):
    QUEUE = "queue"
    """The role's open work: calls to make, reviews, follow-ups."""
    RECALLS = "recalls"
    """The clinic's recall list: who is due or overdue and where each stands on the ladder."""
    TIMELINE = "timeline"
    """A patient's appointments, messages as sent, replies, consents and recall cycles."""
    CLINICAL = "clinical"
    """A patient's clinical record: visit notes, findings, treatment plans."""
    SCHEDULE = "schedule"
    """The clinic's day per provider, with each appointment's confirmation (X7): confirm, move, cancel."""
    INTAKE = "intake"
    """A day's new patients and their onboarding (I15)."""
    CAMPAIGNS = "campaigns"
    """Reactivation campaigns and their results (A8)."""
    REPORTS = "reports"
    """The daily and monthly reports (recall, intake, referral, management), as pages."""
    AUDIT = "audit"
    """Who viewed which patient's record, when."""


VIEWS: dict[Role, frozenset[View]] = {
    Role.FRONT_DESK: frozenset({View.QUEUE, View.RECALLS, View.TIMELINE, View.SCHEDULE, View.INTAKE, View.CAMPAIGNS}),
    Role.HYGIENIST: frozenset({View.QUEUE, View.RECALLS, View.TIMELINE, View.CLINICAL, View.SCHEDULE, View.INTAKE}),
    Role.LEAD_DENTIST: frozenset({View.QUEUE, View.RECALLS, View.TIMELINE, View.CLINICAL, View.SCHEDULE,
                                View.REPORTS}),
    Role.OFFICE_ADMIN: frozenset({View.QUEUE, View.RECALLS, View.TIMELINE, View.SCHEDULE, View.INTAKE, View.CAMPAIGNS,
                                View.REPORTS, View.AUDIT}),
    Role.ADMINISTRATOR: frozenset({View.QUEUE, View.RECALLS, View.TIMELINE, View.SCHEDULE, View.INTAKE,
                                 View.CAMPAIGNS, View.REPORTS, View.AUDIT}),
    Role.SENIOR_REGISTRAR: frozenset({View.QUEUE, View.TIMELINE, View.SCHEDULE, View.REPORTS}),
    Role.REGISTRAR: frozenset({View.QUEUE, View.TIMELINE, View.SCHEDULE}),
}
"""A registrar books and calls: no clinical notes, no recall list. The reports go to who manages (lead dentists,
senior registrars, administrators); only administrators read the audit log."""


def may(role: Role, view: View) -> bool:
    return view in VIEWS[role]


def sees_clinic(own_clinic: str | None, clinic_id: str) -> bool:
    return own_clinic is None or own_clinic == clinic_id
