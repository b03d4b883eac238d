"""Reactivation campaigns (A1-A8): find the inactive patients of some segments and walk each down a chain of
links (email, SMS, a call task), stopping at the first response.

One execution of the campaign machine per campaign (`campaign-<id>`) pages through the inactive index of its
clinics and starts one execution of the reactivation machine per patient (`react-<campaign>-<patient>`).
That execution sends each link once (the send ledger), in the clinic's send window, with the patient's
consent for reactivation messages (X5), and stops as soon as the patient books, opts out, or someone records
their answer. A patient in a recall cycle, with a visit booked or in another campaign is not contacted.
"""

from __future__ import annotations

import csv
import io
import statistics
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from revisit import clock
from revisit.domain.consent import refusal, refuses_all
from revisit.domain.reactivation import AGE_BANDS, LAPSE_BANDS, Segment, Treatment, age_band, lapse_band
from revisit.domain.recall_dates import can_start_cycle, cycle_date, next_due_recall
from revisit.domain.send_window import is_inside, next_send_time
from revisit.domain.sms import sms_segments
from revisit.errors import Conflict, InvalidRequest, NotFound
from revisit.models.common import Channel, MessageKind, Role
from revisit.models.entities import (
    AttemptOutcome,
    Campaign,
    CampaignMember,
    CampaignStatus,
    CommunicationAttempt,
    MemberOutcome,
    Patient,
    PatientStatus,
    StaffTask,
    TaskKind,
    TaskPriority,
)
from revisit.models.steps.reactivation import (
    CampaignPage,
    CampaignPageResult,
    ReactivationRef,
    ReactivationStep,
)
from revisit.ports import EmailMessage, SmsMessage
from revisit.rendering import render, render_sms
from revisit.services.campaign_members import FINAL, call_task_id, end_member, record_answer
from revisit.services.confirmation import not_confirmed_on, tomorrow
from revisit.services.context import TenantContext
from revisit.services.delivery import deliver_once
from revisit.services.patient_actions import open_cycle
from revisit.services.replies import INBOUND
from revisit.services.sweep import spreadsheet_safe
from revisit.services.unsubscribe import unsubscribe_url

CAMPAIGN_MACHINE, PATIENT_MACHINE = "campaign", "reactivation"


def execution_name(campaign_id: str, patient_id: str) -> str:
    """One patient's chain of channels in one campaign (A5)."""
    return f"react-{campaign_id}-{patient_id}"


PAGE_SIZE = 100


def segment_of(campaign: Campaign) -> Segment:
    return Segment(tuple(campaign.clinics), tuple(campaign.treatments), tuple(campaign.age_bands),
                   tuple(campaign.lapse_bands))


def _today(ctx: TenantContext, clinic_id: str | None = None) -> date:
    zone = ctx.config.clinic(clinic_id).time_zone if clinic_id else ctx.config.time_zone
    return clock.now().astimezone(ZoneInfo(zone)).date()


# --- A1, A2: the inactive patients --------------------------------------------------------------------
def inactive_in_segment(ctx: TenantContext, segment: Segment, limit: int | None = None) -> list[dict]:
    """The inactive patients of the segment's clinics (the index, page by page) that match it."""
    found: list[dict] = []
    for clinic in ctx.config.clinics:
        if segment.clinics and clinic.clinic_id not in segment.clinics:
            continue
        today, token = _today(ctx, clinic.clinic_id), None
        while True:
            page, token = ctx.tables.patients.inactive(clinic.clinic_id, today, PAGE_SIZE, token)
            found += [entry for entry in page if _matches(segment, entry, today)]
            if limit is not None and len(found) >= limit:
                return found[:limit]
            if token is None:
                break
    return found


def _matches(segment: Segment, entry: dict, today: date) -> bool:
    return segment.matches(clinic_id=entry["clinic_id"], treatment=Treatment(entry.get("treatment", "general")),
                           date_of_birth=date.fromisoformat(entry["date_of_birth"]),
                           last_visit=date.fromisoformat(entry["last_visit"]) if entry.get("last_visit") else None,
                           today=today)


# --- A5: the campaign ----------------------------------------------------------------------------------
def create_campaign(ctx: TenantContext, campaign: Campaign) -> tuple[Campaign, bool]:
    """Checks the campaign (clinics, bands, goal date, a segment with inactive patients, no running campaign
    on an overlapping segment), stores it and starts its execution; (campaign, created)."""
    known = {c.clinic_id for c in ctx.config.clinics}
    if set(campaign.clinics) - known:
        raise InvalidRequest("clinics", f"unknown clinics {sorted(set(campaign.clinics) - known)}")
    if set(campaign.age_bands) - {label for _, _, label in AGE_BANDS}:
        raise InvalidRequest("age_bands", f"one of {[label for _, _, label in AGE_BANDS]}")
    if set(campaign.lapse_bands) - {label for _, _, label in LAPSE_BANDS}:
        raise InvalidRequest("lapse_bands", f"one of {[label for _, _, label in LAPSE_BANDS]}")
    if campaign.goal_date <= _today(ctx):
        raise InvalidRequest("goal_date", f"{campaign.goal_date} is not in the future")
    try:
        existing = ctx.tables.campaigns.get(campaign.campaign_id)
    except NotFound:
        existing = None
    if existing is not None:
        if existing.model_dump(exclude={"created_at", "status", "targeted"}) != campaign.model_dump(
                exclude={"created_at", "status", "targeted"}):
            raise Conflict(f"campaign {campaign.campaign_id} exists with other details")
        return existing, False
    segment = segment_of(campaign)
    for other in ctx.tables.campaigns.all():
        if running(ctx, other) and segment_of(other).overlaps(segment):
            raise InvalidRequest("segment", f"overlaps the running campaign {other.campaign_id}: a patient would "
                                            "be asked twice")
    if not inactive_in_segment(ctx, segment, limit=1):
        raise InvalidRequest("segment", "no inactive patient is in this segment")
    created = ctx.tables.campaigns.create(campaign)
    if ctx.workflows is not None:
        ctx.workflows.start(CAMPAIGN_MACHINE, f"campaign-{campaign.campaign_id}",
                            {"campaign_id": campaign.campaign_id, "page": {"clinic_index": 0, "token": None}})
    return campaign, created


def running(ctx: TenantContext, campaign: Campaign) -> bool:
    """Until its goal date (then its patients' chains finish, and a new campaign may take them)."""
    return campaign.status == CampaignStatus.RUNNING and campaign.goal_date >= _today(ctx)


def select_campaign_patients(request: CampaignPage, ctx: TenantContext) -> CampaignPageResult:
    """A page of one clinic's inactive patients: those in the segment join the campaign and get their own
    execution (once: the member row and the execution name). Then the next page, or the next clinic."""
    campaign = ctx.tables.campaigns.get(request.campaign_id)
    segment = segment_of(campaign)
    clinics = [c.clinic_id for c in ctx.config.clinics if not segment.clinics or c.clinic_id in segment.clinics]
    if request.clinic_index >= len(clinics):
        return CampaignPageResult(done=True, clinic_index=request.clinic_index, token=None, started=0)
    clinic_id = clinics[request.clinic_index]
    today = _today(ctx, clinic_id)
    page, token = ctx.tables.patients.inactive(clinic_id, today, PAGE_SIZE, request.token)
    started = 0
    for entry in page:
        if not _matches(segment, entry, today):
            continue
        member = CampaignMember(campaign_id=campaign.campaign_id, patient_id=entry["patient_id"], clinic_id=clinic_id,
                                treatment=Treatment(entry.get("treatment", "general")))
        if ctx.tables.campaigns.add_member(member):
            started += 1
        if ctx.workflows is not None:
            ctx.workflows.start(PATIENT_MACHINE, execution_name(campaign.campaign_id, member.patient_id),
                                {"campaign_id": campaign.campaign_id, "patient_id": member.patient_id})
    if started:
        campaign = ctx.tables.campaigns.get(request.campaign_id)
        ctx.tables.campaigns.save(campaign.model_copy(update={"targeted": campaign.targeted + started}))
    next_index = request.clinic_index + (0 if token else 1)
    return CampaignPageResult(done=next_index >= len(clinics), clinic_index=next_index, token=token, started=started)


# --- A5: one patient down the chain --------------------------------------------------------------------
def reactivate(request: ReactivationRef, ctx: TenantContext) -> ReactivationStep:
    """The patient's next link, when it is due; stops at the first response (a booking, an opt-out, an
    answer recorded by the team) and after the last link's answer time. After a link that failed for good
    (`request.failed`, from the execution's Catch): the patient leaves the campaign, released for another."""
    member = ctx.tables.campaigns.member(request.campaign_id, request.patient_id)
    if member.outcome in FINAL:
        return ReactivationStep(done=True, outcome=member.outcome.value)
    if request.failed:
        return _end(ctx, member, MemberOutcome.SKIPPED, "a link failed after its retries (see the execution)")
    patient = ctx.tables.patients.get(request.patient_id)
    now = clock.now()
    if member.link_index == 0 and not member.channels_sent:
        why = _why_not_contact(ctx, patient, member)
        if why:
            return _end(ctx, member, MemberOutcome.SKIPPED, why)
    ended = _response(ctx, patient, member)
    if ended is not None:
        return ended
    chain = ctx.config.reactivation.chain
    if member.link_index >= len(chain):
        last = member.responded_at or member.first_contact_at or now
        waited_until = (member_last_contact(member) or last) + timedelta(days=ctx.config.reactivation.answer_days)
        if now < waited_until:
            return ReactivationStep(done=False, outcome="waiting", next_at=waited_until)
        return _end(ctx, member, MemberOutcome.NEVER_REACHED, "no response to any link")
    link = chain[member.link_index]
    clinic = ctx.config.clinic(patient.clinic_id)
    refused = refusal(patient, link.channel, MessageKind.MARKETING)
    if refused is not None:  # no address or no consent: the next link at once (A5: SMS for those without email)
        ctx.tables.campaigns.save_member(member.model_copy(update={"link_index": member.link_index + 1,
                                                                   "detail": f"{link.channel.value}: {refused.value}"}))
        return ReactivationStep(done=False, outcome="next_link", next_at=now)
    if link.channel in (Channel.EMAIL, Channel.SMS) and not is_inside(now, clinic.send_window, clinic.time_zone):
        return ReactivationStep(done=False, outcome="waiting",
                                next_at=next_send_time(now, clinic.send_window, clinic.time_zone))
    claim = CommunicationAttempt(patient_id=patient.patient_id, cycle_id=f"react-{member.campaign_id}",
                                 step=f"link-{member.link_index + 1}", channel=link.channel,
                                 outcome=AttemptOutcome.SENDING, at=now, language=patient.language)
    delivered = deliver_once(ctx, patient, claim, lambda owned: _send(ctx, patient, member, link.channel, owned),
                             repeatable=link.channel == Channel.CALL_TASK)
    sent = delivered.outcome in (AttemptOutcome.SENT, AttemptOutcome.TASK_CREATED)
    next_index = member.link_index + 1
    following = chain[next_index].after_days if next_index < len(chain) else ctx.config.reactivation.answer_days
    update = {"link_index": next_index, "detail": f"{link.channel.value}: {delivered.outcome.value}"}
    if sent:
        update |= {"channels_sent": [*member.channels_sent, link.channel],
                   "first_contact_at": member.first_contact_at or now}
    ctx.tables.campaigns.save_member(member.model_copy(update=update))
    return ReactivationStep(done=False, outcome="sent" if sent else "next_link",
                            next_at=now + timedelta(days=following) if sent else now)


def member_last_contact(member: CampaignMember) -> datetime | None:
    return member.first_contact_at  # the chain's timing is from each link; the answer time from the first


def _why_not_contact(ctx: TenantContext, patient: Patient, member: CampaignMember) -> str | None:
    """Never twice for the same thing: a recall already asks them, a visit is booked, another campaign has them."""
    if refuses_all(patient, MessageKind.MARKETING):
        return "wants no reactivation messages"
    if open_cycle(ctx, patient.patient_id) is not None:
        return "in a recall cycle"
    if patient.status != PatientStatus.INACTIVE and _recall_will_ask(ctx, patient):
        return "due for recall: the recall ladder asks them"
    if patient.next_appointment_at is not None and patient.next_appointment_at > clock.now():
        return "has a visit booked"
    if not ctx.tables.campaigns.lock(patient.patient_id, member.campaign_id):
        return "in another campaign"
    return None


def _recall_will_ask(ctx: TenantContext, patient: Patient) -> bool:
    """A patient the nightly sweep will put in a recall cycle (due, recallable): recall is theirs, not a campaign."""
    lead_days = ctx.config.sweep.lead_days
    due = next_due_recall(patient.recalls, {rt.recall_type: rt for rt in ctx.config.recall_types}, lead_days)
    if due is None:
        return False
    opens = cycle_date(patient, due.due_date, lead_days)
    return can_start_cycle(patient, opens) and opens <= _today(ctx, patient.clinic_id) + timedelta(days=lead_days)


def _response(ctx: TenantContext, patient: Patient, member: CampaignMember) -> ReactivationStep | None:
    """The first response ends the chain: a booking made since the first contact, an opt-out."""
    if refuses_all(patient, MessageKind.MARKETING):
        return _end(ctx, member, MemberOutcome.OPTED_OUT, "opted out")
    if member.first_contact_at is not None:
        replies = [a for a in ctx.tables.attempts.for_patient(patient.patient_id)
                   if a.cycle_id == INBOUND and a.at >= member.first_contact_at]
        if replies:  # an SMS reply (STOP included) is an answer: no more links
            stop = any((a.detail or "").lower().startswith("stop") for a in replies)
            return _end(ctx, member, MemberOutcome.OPTED_OUT if stop else MemberOutcome.RESPONDED,
                        "replied STOP" if stop else "replied by SMS", responded_at=replies[0].at)
        booked = [a for a in ctx.tables.appointments.for_patient(patient.patient_id)
                  if a.created_at >= member.first_contact_at and a.status.value in ("booked", "completed")]
        if booked:
            return _end(ctx, member, MemberOutcome.RECOVERED, f"booked {booked[0].appointment_id}",
                        responded_at=min(a.created_at for a in booked))
    return None


def _end(ctx: TenantContext, member: CampaignMember, outcome: MemberOutcome, why: str,
         responded_at: datetime | None = None) -> ReactivationStep:
    # a patient skipped because another campaign holds them: that campaign's lock stays
    end_member(ctx, member, outcome, why, responded_at, release=why != "in another campaign")
    return ReactivationStep(done=True, outcome=outcome.value)


def _send(ctx: TenantContext, patient: Patient, member: CampaignMember, channel: Channel,
          claim: CommunicationAttempt) -> CommunicationAttempt:
    clinic = ctx.config.clinic(patient.clinic_id)
    context = {"first_name": patient.first_name, "clinic_name": clinic.name_in_sms if channel == Channel.SMS
               else clinic.name, "clinic_phone": clinic.phone, "treatment": member.treatment.value}
    if channel == Channel.SMS:
        assert patient.phone is not None
        text = render_sms(patient.language, "reactivation_sms.txt", ctx.config.sms_gsm_folding, **context)
        segments = sms_segments(text)
        message_id = ctx.notifier.send_sms(SmsMessage(patient.phone, text, ctx.config.sms_sender_id))
        return claim.model_copy(update={"outcome": AttemptOutcome.SENT, "message_id": message_id,
                                        "sms_segments": segments.segments, "sms_encoding": segments.encoding})
    if channel == Channel.EMAIL:
        assert patient.email is not None
        context["unsubscribe_url"] = unsubscribe_url(ctx, patient.patient_id, MessageKind.MARKETING)
        message_id = ctx.notifier.send_email(EmailMessage(
            to=patient.email, sender=ctx.config.sender_email,
            subject=render(patient.language, "reactivation_email_subject.txt", **context),
            text=render(patient.language, "reactivation_email.txt", **context),
            html=render(patient.language, "reactivation_email.html", **context),
            unsubscribe_url=context["unsubscribe_url"]))
        return claim.model_copy(update={"outcome": AttemptOutcome.SENT, "message_id": message_id})
    task = StaffTask(task_id=call_task_id(member.campaign_id, patient.patient_id), kind=TaskKind.REACTIVATION_CALL,
                     role=Role.FRONT_DESK, clinic_id=patient.clinic_id, priority=TaskPriority.NORMAL,
                     patient_id=patient.patient_id, campaign_id=member.campaign_id,
                     retention_score=patient.retention_score,
                     title=f"Reactivation call: patient {patient.patient_id} ({member.treatment.value}), "
                           f"campaign {member.campaign_id}",
                     due_at=clock.now(), created_at=clock.now())
    ctx.tables.tasks.create(task)
    return claim.model_copy(update={"outcome": AttemptOutcome.TASK_CREATED, "task_id": task.task_id})


# --- A6: the team's observations -------------------------------------------------------------------------
def record_observation(ctx: TenantContext, campaign_id: str, patient_id: str, note: str, responded: bool,
                       booked: bool = False) -> CampaignMember:
    """A6: what the team learnt of a contacted patient; `responded` ends their chain (they answered)."""
    member = ctx.tables.campaigns.member(campaign_id, patient_id)
    member = ctx.tables.campaigns.save_member(member.model_copy(
        update={"observations": [*member.observations, f"{clock.now():%Y-%m-%d}: {note}"]}))
    if responded:
        member = record_answer(ctx, campaign_id, patient_id, "answered (recorded by the team)") or member
    return member


# --- A8: results ---------------------------------------------------------------------------------------
def results(ctx: TenantContext, campaign_id: str) -> dict:
    """Goal against recovered, responses by the link that got them, never reached, days from the first
    contact to booking; per segment (treatment) too."""
    campaign = ctx.tables.campaigns.get(campaign_id)
    members = ctx.tables.campaigns.members(campaign_id)
    return {"campaign_id": campaign_id, "name": campaign.name,
            "status": "running" if running(ctx, campaign) else "ended",
            "goal": {"patients": campaign.goal_patients, "by": campaign.goal_date.isoformat()},
            **figures(members, campaign.goal_patients),
            "by_treatment": {t.value: figures([m for m in members if m.treatment == t])
                             for t in Treatment if any(m.treatment == t for m in members)}}


def figures(members: list[CampaignMember], goal: int | None = None) -> dict:
    outcomes = {o.value: sum(1 for m in members if m.outcome == o) for o in MemberOutcome}
    days = [(m.responded_at - m.first_contact_at).total_seconds() / 86400 for m in members
            if m.outcome == MemberOutcome.RECOVERED and m.responded_at and m.first_contact_at]
    by_link: dict[str, int] = {}
    for member in members:
        if member.outcome in (MemberOutcome.RECOVERED, MemberOutcome.RESPONDED) and member.responded_after:
            by_link[member.responded_after.value] = by_link.get(member.responded_after.value, 0) + 1
    contacted = sum(1 for m in members if m.channels_sent)
    found = {"targeted": len(members), "contacted": contacted, "outcomes": outcomes,
             "never_reached_patients": sorted(m.patient_id for m in members if m.outcome == MemberOutcome.NEVER_REACHED),
             "recovered": outcomes["recovered"], "responses_by_link": by_link,
             "contacted_by_channel": {c.value: sum(1 for m in members if c in m.channels_sent)
                                      for c in (Channel.EMAIL, Channel.SMS, Channel.CALL_TASK)},
             "recovery_rate": round(outcomes["recovered"] / contacted, 3) if contacted else None,
             "median_days_to_booking": round(statistics.median(days), 1) if days else None}
    if goal is not None:
        found["goal_reached"] = round(outcomes["recovered"] / goal, 3)
    return found


# --- A1, A2: the list staff export; A7: the administrator's day -------------------------------------------
INACTIVE_COLUMNS = ["patient_id", "first_name", "last_name", "phone", "email", "sms_consent", "email_consent",
                    "treatment", "age_band", "last_visit", "lapse"]


def inactive_list(ctx: TenantContext, clinic_id: str, limit: int, after: str | None) -> dict:
    """A page of the clinic's inactive patients with their contact details (staff only: behind the
    integrator's credential, never logged), the clinic's count, and the next page's token."""
    today = _today(ctx, clinic_id)
    page, token = ctx.tables.patients.inactive(clinic_id, today, limit, after)
    rows = []
    for entry in page:
        patient = ctx.tables.patients.get(entry["patient_id"])
        rows.append({"patient_id": patient.patient_id, "first_name": patient.first_name,
                     "last_name": patient.last_name, "phone": patient.phone, "email": patient.email,
                     "sms_consent": patient.sms_consent, "email_consent": patient.email_consent,
                     "treatment": patient.treatment.value, "age_band": age_band(patient.date_of_birth, today),
                     "last_visit": patient.last_visit.isoformat() if patient.last_visit else None,
                     "lapse": lapse_band(patient.last_visit, today)})
    return {"clinic_id": clinic_id, "on": today.isoformat(),
            "inactive": ctx.tables.patients.count_inactive(clinic_id, today), "patients": rows, "next": token}


def inactive_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=INACTIVE_COLUMNS)
    writer.writeheader()
    def cell(column: str, value: object) -> object:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "yes" if value else "no"
        return value if column == "phone" else spreadsheet_safe(value)  # a phone is E.164, validated: no formula

    writer.writerows({column: cell(column, row[column]) for column in INACTIVE_COLUMNS} for row in rows)
    return buffer.getvalue()


def daily_list(ctx: TenantContext, clinic_id: str) -> dict:
    """A7: today's agenda (booked, by time), tomorrow's unconfirmed appointments, the reactivation calls due.
    Planned but unscheduled treatment comes with intake's treatment plans (not built yet): an empty list."""
    zone = ZoneInfo(ctx.config.clinic(clinic_id).time_zone)
    today = clock.now().astimezone(zone).date()
    providers = [p.provider_id for p in ctx.config.providers if p.clinic_id == clinic_id]
    first = datetime.combine(today, datetime.min.time(), tzinfo=zone)
    agenda = sorted((a for a in ctx.tables.appointments.on_day(providers, first, first + timedelta(days=1))
                     if a.status.value == "booked"), key=lambda a: a.starts_at)
    calls = [t for t in ctx.tables.tasks.open_queue(clinic_id, Role.FRONT_DESK.value, limit=500)
             if t.kind == TaskKind.REACTIVATION_CALL]
    return {"clinic_id": clinic_id, "day": today.isoformat(),
            "agenda": [{"appointment_id": a.appointment_id, "patient_id": a.patient_id,
                        "starts_at": a.starts_at.astimezone(zone).isoformat(), "appointment_type": a.appointment_type,
                        "confirmation": a.confirmation.value} for a in agenda],
            "unconfirmed_tomorrow": [{"appointment_id": a.appointment_id, "patient_id": a.patient_id,
                                      "starts_at": a.starts_at.astimezone(zone).isoformat()}
                                     for a in not_confirmed_on(ctx, clinic_id, tomorrow(ctx, clinic_id))],
            "reactivation_calls": [{"task_id": t.task_id, "patient_id": t.patient_id, "campaign_id": t.campaign_id,
                                    "retention_score": t.retention_score} for t in calls],
            "planned_unscheduled_treatment": []}
