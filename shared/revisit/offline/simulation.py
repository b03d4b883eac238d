"""Simulated patients and staff for the demo. Each evening they react to what reached them that day:
some book, some decline, some reply STOP; the front desk works its call queue. Deterministic by patient id.
They act only through the same services the booking API uses; the outcome is what the workflows do next."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from revisit.domain.leads import CallOutcome, LeadStage
from revisit.errors import Conflict, InvalidRequest, SlotTaken
from revisit.models.common import Role
from revisit.models.entities import (
    AppointmentStatus,
    CallResult,
    Campaign,
    Finding,
    InsurancePolicy,
    Patient,
    PatientStatus,
    PerformedProcedure,
)
from revisit.offline.stack import ACCOUNT, REGION
from revisit.services import booking, intake, patient_actions, reactivation, referral, replies, visit
from revisit.services.context import TenantContext

# Probabilities per message received: (book, decline, opt out)
REACTIONS = {"sms": (0.22, 0.04, 0.03), "email": (0.12, 0.03, 0.0)}
CANCELLED, NO_SHOW = 0.05, 0.08
"""Of booked recall visits: cancelled a few days before, missed."""
CALL_OUTCOMES = ((CallResult.BOOKED, 0.35), (CallResult.DECLINED, 0.10), (CallResult.NO_ANSWER, 0.40),
                 (CallResult.CALL_BACK, 0.15))
ORDER_SHARE, ORDER_DAYS = 0.06, 40
"""Of the patients, those a doctor orders a control procedure for, on one of the run's first days."""
REFERRAL_CALL_OUTCOMES = ((CallOutcome.BOOKED, 0.45), (CallOutcome.REFUSED, 0.12), (CallOutcome.NO_ANSWER, 0.43))
REACTIVATION_REACTIONS = {"sms": 0.14, "email": 0.08}
"""Of inactive patients, those a reactivation message brings back (they book)."""
REACTIVATION_CALLS = ((CallResult.BOOKED, 0.30), (CallResult.DECLINED, 0.15), (CallResult.NO_ANSWER, 0.55))
CAMPAIGN_DAY = 1
NEW_PATIENT_SHARE, NEW_PATIENT_DAYS = 0.45, 60
"""Each of the run's first days, the chance a clinic registers a new patient (who books a first visit)."""
FINDINGS = (("caries", 0.18), ("calculus", 0.10), ("periodontitis", 0.07), ("fractured-tooth", 0.03),
            ("missing-tooth", 0.02))
"""What an examination finds, each independently, per visit."""
PLANS = {"US": ("50.00", "1500.00"), "ES": ("30.00", "1000.00"), "BG": ("20.00", "750.00"), "RU": ("3000.00", "100000.00")}
"""New patients' plans: the yearly deductible and maximum, in the clinic's currency."""


def _draw(*parts: str) -> float:
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _pick(draw: float, shares):
    """The outcome whose cumulative share first exceeds the draw (the last one if the shares fall short)."""
    cumulative = 0.0
    for outcome, share in shares:
        cumulative += share
        if draw < cumulative:
            return outcome
    return shares[-1][0]


class Simulation:
    def __init__(self, ctx: TenantContext, patients: list[Patient]) -> None:
        self.ctx = ctx
        self._by_phone = {p.phone: p.patient_id for p in patients if p.phone}
        self._phone_of = {p.patient_id: p.phone for p in patients if p.phone}
        self._by_email = {str(p.email): p.patient_id for p in patients if p.email}
        self._clinic_of = {p.patient_id: p.clinic_id for p in patients}
        self._sms_seen = 0
        self._email_seen = 0
        self._booked: dict[str, str] = {}  # appointment id -> patient id, until the visit happens or not
        self._for_leads: set[str] = set()  # appointments booked for a doctor's order: paid once done
        self._orders = {p.patient_id: int(_draw(p.patient_id, "order day") * ORDER_DAYS) for p in patients
                        if _draw(p.patient_id, "order") < ORDER_SHARE}
        self._day = 0
        self._new_patients = 0
        self._closed: dict[str, tuple[str, int]] = {}  # appointment id -> (patient id, day closed): billing follows
        self.actions: Counter[str] = Counter()

    def evening(self, now: datetime) -> None:
        """Patients answer today's messages; the front desk calls today's queue."""
        sms = list(sns_backends[ACCOUNT][REGION].sms_messages.values())
        emails = ses_backends[ACCOUNT]["us-east-1"].sent_messages
        for phone, _text in sms[self._sms_seen:]:
            if phone in self._by_phone:
                self._react(self._by_phone[phone], "sms", now)
        for message in emails[self._email_seen:]:
            destinations = getattr(message, "destinations", {})  # a raw email's: a list (moto may repeat To)
            addresses = destinations if isinstance(destinations, list) else destinations.get("ToAddresses", [])
            for address in dict.fromkeys(addresses):
                if address in self._by_email:
                    self._react(self._by_email[address], "email", now)
        self._sms_seen, self._email_seen = len(sms), len(emails)
        self._work_call_queue(now)
        self._visits(now)
        self._front_office(now)
        self._billing_office(now)
        self._register_new_patients(now)
        self._referrals(now)
        if self._day == CAMPAIGN_DAY:
            self._campaign(now)
        self._day += 1

    # --- reactivation: the chain's campaign, its calls -------------------------------------------------------
    def _campaign(self, now: datetime) -> None:
        campaign = Campaign(campaign_id="winter-comeback", name="Winter comeback", goal_patients=40,
                            goal_date=now.date() + timedelta(days=60), created_at=now)
        try:
            reactivation.create_campaign(self.ctx, campaign)
        except (Conflict, InvalidRequest):
            return
        self.actions["reactivation campaign started"] += 1

    def _reactivation_call(self, task, now: datetime) -> None:
        result = _pick(_draw(task.task_id, "reactivation call"), REACTIVATION_CALLS)
        if result == CallResult.BOOKED:
            self._book(task.patient_id, now, "came back on a reactivation call", reactivation=True)
        elif result == CallResult.DECLINED:
            reactivation.record_observation(self.ctx, task.campaign_id, task.patient_id,
                                            "reached: not coming back for now", responded=True)
        patient_actions.record_call_outcome(self.ctx, task.task_id, result,
                                            "other" if result == CallResult.DECLINED else None)
        self.actions[f"reactivation call: {result.value}"] += 1

    # --- referral follow-up: doctors order, the senior registrar assigns, registrars call -------------------
    def _referrals(self, now: datetime) -> None:
        for patient_id, day in sorted(self._orders.items()):
            if day == self._day:
                self._order(patient_id, now)
        for clinic in self.ctx.config.clinics:
            registrars = self.ctx.config.staff_with_role(Role.REGISTRAR, clinic.clinic_id)
            if not registrars:
                continue
            seniors = self.ctx.config.staff_with_role(Role.SENIOR_REGISTRAR, clinic.clinic_id)
            for lead in self.ctx.tables.leads.open_in_stage(clinic.clinic_id, LeadStage.NEW.value):
                chosen = registrars[int(_draw(lead.lead_id, "registrar") * len(registrars))]
                referral.assign(self.ctx, lead.lead_id, chosen.staff_id, seniors[0].staff_id if seniors else None)
                self.actions["lead assigned by the senior registrar"] += 1
            for task in self.ctx.tables.tasks.open_queue(clinic.clinic_id, Role.REGISTRAR.value, limit=500):
                if task.kind.value == "referral_call" and task.lead_id and task.due_at <= now:
                    self._referral_call(task.lead_id, task.task_id, now)

    def _order(self, patient_id: str, now: datetime) -> None:
        procedures = self.ctx.config.procedures
        if not procedures:
            return
        procedure = procedures[int(_draw(patient_id, "procedure") * len(procedures))]
        due = now.date() + timedelta(days=8 + int(_draw(patient_id, "due") * 21))
        try:
            referral.create_order(self.ctx, order_id=f"ord-{patient_id}", patient_id=patient_id,
                                  procedure_id=procedure.procedure_id, ordered_by="Dr. Demo", due_date=due,
                                  notes="control after treatment")
        except (Conflict, InvalidRequest):
            return
        self.actions["doctor's order"] += 1

    def _referral_call(self, lead_id: str, task_id: str, now: datetime) -> None:
        lead = self.ctx.tables.leads.get(lead_id)
        if lead.stage != LeadStage.ASSIGNED:
            return
        outcome = _pick(_draw(task_id, "referral call"), REFERRAL_CALL_OUTCOMES)
        if outcome == CallOutcome.BOOKED:
            appointment_id = self._book_for_lead(lead, now)
            if appointment_id is None:
                outcome = CallOutcome.NO_ANSWER
            else:
                referral.record_call(self.ctx, lead_id, outcome=outcome, by=lead.assignee or "registrar",
                                     appointment_id=appointment_id)
                self.actions["referral call: booked"] += 1
                return
        if outcome == CallOutcome.REFUSED:
            reasons = self.ctx.config.refusal_reasons
            reason = reasons[int(_draw(task_id, "reason") * len(reasons))]
            referral.record_call(self.ctx, lead_id, outcome=outcome, by=lead.assignee or "registrar",
                                 refusal_reason=reason)
        else:
            referral.record_call(self.ctx, lead_id, outcome=outcome, by=lead.assignee or "registrar")
        self.actions[f"referral call: {outcome.value}"] += 1

    def _book_for_lead(self, lead, now: datetime) -> str | None:
        clinic = self.ctx.config.clinic(lead.clinic_id)
        first = (now + timedelta(days=2)).astimezone(ZoneInfo(clinic.time_zone)).date()
        slots = booking.availability(self.ctx, clinic.clinic_id, lead.appointment_type, first,
                                     first + timedelta(days=7)).slots
        for slot in slots[int(_draw(lead.lead_id, str(lead.version), "slot") * len(slots)):] + slots:
            try:
                booked = booking.book(self.ctx, booking.BookingRequest(lead.patient_id, clinic.clinic_id,
                                                                       lead.appointment_type, slot.provider_id,
                                                                       slot.starts_at), "registrar")
            except SlotTaken:
                continue
            self._booked[booked.appointment.appointment_id] = lead.patient_id
            self._for_leads.add(booked.appointment.appointment_id)
            return booked.appointment.appointment_id
        return None

    def _react(self, patient_id: str, channel: str, now: datetime) -> None:
        """To a recall message: an appointment's own notices, once booked, draw no reaction here. To a
        reactivation message (the patient is inactive): some come back."""
        if patient_actions.open_cycle(self.ctx, patient_id) is None:
            patient = self.ctx.tables.patients.get(patient_id)
            if patient.status == PatientStatus.INACTIVE and patient.next_appointment_at is None \
                    and _draw(patient_id, channel, "reactivation", now.date().isoformat()) < REACTIVATION_REACTIONS[channel]:
                self._book(patient_id, now, f"came back after a reactivation {channel}", reactivation=True)
            return
        book, decline, stop = REACTIONS[channel]
        draw = _draw(patient_id, channel, now.date().isoformat())
        if draw < book:
            self._book(patient_id, now, f"booked after {channel}")
        elif draw < book + decline:
            if patient_actions.decline_recall(self.ctx, patient_id, "no-time"):
                self.actions[f"declined after {channel}"] += 1
        elif draw < book + decline + stop:
            # A STOP reply, through the inbound-SMS handler production runs (consent and its log in one go).
            phone = self._phone_of[patient_id]
            replies.handle_reply(self.ctx, phone, "STOP", f"sim-{patient_id}-{now:%Y%m%d}")
            self.actions[f"replied STOP to {channel}"] += 1

    def _book(self, patient_id: str, now: datetime, why: str, reactivation: bool = False) -> None:
        """A free recall slot one to three weeks out, booked as the API books it (slot locks, the
        Appointment workflow's confirmation, reminders and instructions)."""
        if not reactivation and patient_actions.open_cycle(self.ctx, patient_id) is None:
            return
        clinic = self.ctx.config.clinic(self._clinic_of[patient_id])
        first = (now + timedelta(days=7 + int(_draw(patient_id, "day") * 14))).astimezone(ZoneInfo(clinic.time_zone)).date()
        slots = booking.availability(self.ctx, clinic.clinic_id, "recall", first, first + timedelta(days=6)).slots
        for slot in slots[int(_draw(patient_id, "slot") * len(slots)):] + slots:
            try:
                booked = booking.book(self.ctx, booking.BookingRequest(patient_id, clinic.clinic_id, "recall",
                                                                       slot.provider_id, slot.starts_at), "front-desk")
            except SlotTaken:
                continue
            self._booked[booked.appointment.appointment_id] = patient_id
            self.actions[why] += 1
            return
        self.actions["no free recall slot within a week"] += 1

    def _visits(self, now: datetime) -> None:
        """The day's visits happen (most), are missed (some) or were cancelled beforehand (a few), recorded
        as the clinic's system records them: through the booking service, so the loop closes (X1)."""
        for appointment_id, patient_id in list(self._booked.items()):
            appointment = self.ctx.tables.appointments.get(patient_id, appointment_id)
            draw = _draw(patient_id, appointment.starts_at.isoformat(), "visit")  # not the random appointment id
            if appointment.status != AppointmentStatus.BOOKED:
                del self._booked[appointment_id]
            elif appointment.starts_at > now:
                if draw < CANCELLED and appointment.starts_at - now < timedelta(days=3):
                    booking.change_status(self.ctx, patient_id, appointment_id, AppointmentStatus.CANCELLED,
                                          "patient called to cancel")
                    self.actions["visit cancelled by the patient"] += 1
            else:
                missed = CANCELLED <= draw < CANCELLED + NO_SHOW
                if missed:
                    booking.change_status(self.ctx, patient_id, appointment_id, AppointmentStatus.NO_SHOW)
                else:  # I9: the dentist closes the visit: what was done, what was found (the close-out bills it)
                    self._close_visit(appointment, now)
                self.actions["visit missed (no-show)" if missed else "visit completed"] += 1
                if not missed and appointment_id in self._for_leads:  # the ordered procedure is paid at the desk
                    booking.record_payment(self.ctx, patient_id, appointment_id, f"pay-{appointment_id}",
                                           Decimal("80.00"), "USD", "card")
                    self.actions["ordered procedure paid"] += 1

    def _work_call_queue(self, now: datetime) -> None:
        for clinic in self.ctx.config.clinics:
            for task in self.ctx.tables.tasks.open_queue(clinic.clinic_id, Role.FRONT_DESK.value, limit=500):
                if task.kind.value == "reactivation_call" and task.patient_id and task.campaign_id:
                    self._reactivation_call(task, now)
                    continue
                if task.kind.value != "recall_call" or task.patient_id is None:
                    continue
                result = _pick(_draw(task.task_id, "call"), CALL_OUTCOMES)
                callers = self.ctx.config.staff_with_role(Role.REGISTRAR, clinic.clinic_id)
                caller = callers[int(_draw(task.task_id, "caller") * len(callers))].staff_id if callers else None
                if result == CallResult.BOOKED:  # the front desk books the slot, then records the call
                    self._book(task.patient_id, now, "booked on the front desk's call")
                    patient_actions.record_call_outcome(self.ctx, task.task_id, CallResult.BOOKED, staff_id=caller)
                    continue
                reason = "cost" if result == CallResult.DECLINED else None
                patient_actions.record_call_outcome(self.ctx, task.task_id, result, reason, caller)
                self.actions[f"call: {result.value}"] += 1


    # --- intake and visit close-out: new patients, the dentist's record, the front and billing offices ----------
    def _register_new_patients(self, now: datetime) -> None:
        """A new patient registers at the front desk and books a first visit a few days out; the booking's
        event starts their intake (I1). Some leave data out (no email, no insurance card yet)."""
        if self._day >= NEW_PATIENT_DAYS:
            return
        for clinic in self.ctx.config.clinics:
            if _draw(clinic.clinic_id, str(self._day), "new patient") >= NEW_PATIENT_SHARE:
                continue
            self._new_patients += 1
            patient_id = f"n-{self._new_patients:05d}"
            insured = _draw(patient_id, "insured") >= 0.12
            deductible, maximum = PLANS.get(clinic.country, PLANS["US"])
            patient = Patient(
                patient_id=patient_id, clinic_id=clinic.clinic_id, first_name="New", last_name=f"Patient {patient_id}",
                date_of_birth=now.date().replace(year=now.year - 20 - int(_draw(patient_id, "age") * 50)),
                language=clinic.language, phone=clinic.phone[:-4] + f"{self._new_patients % 10000:04d}",
                email=None if _draw(patient_id, "email") < 0.15 else f"{patient_id}@mail.example.com",
                sms_consent=True, email_consent=True,
                insurance=[InsurancePolicy(
                    payer="Demo Dental Mutual", member_id=f"N{self._new_patients:07d}", plan="Family",
                    valid_from=now.date().replace(month=1, day=1),
                    valid_to=None if _draw(patient_id, "lapsed") >= 0.08 else now.date() - timedelta(days=5),
                    category_percent={"diagnostic": 100, "preventive": 100, "basic": 80, "periodontics": 60, "major": 50},
                    deductible=Decimal(deductible), annual_maximum=Decimal(maximum))] if insured else [])
            self.ctx.tables.patients.create(patient)
            self._clinic_of[patient_id] = clinic.clinic_id
            first = (now + timedelta(days=3 + int(_draw(patient_id, "first visit") * 8))).astimezone(
                ZoneInfo(clinic.time_zone)).date()
            slots = booking.availability(self.ctx, clinic.clinic_id, "new-patient", first, first + timedelta(days=6)).slots
            for slot in slots:
                try:
                    booked = booking.book(self.ctx, booking.BookingRequest(patient_id, clinic.clinic_id, "new-patient",
                                                                           slot.provider_id, slot.starts_at), "front-desk")
                except SlotTaken:
                    continue
                self._booked[booked.appointment.appointment_id] = patient_id
                self.actions["new patient registered and booked"] += 1
                break

    def _close_visit(self, appointment, now: datetime) -> None:
        first_visit = appointment.appointment_type == "new-patient"
        codes = ["D0150", "D0274", "D1110"] if first_visit else ["D0120", "D1110"]
        if not first_visit and _draw(appointment.patient_id, appointment.starts_at.isoformat(), "bitewings") < 0.25:
            codes.append("D0274")
        findings = [Finding(finding=name, tooth=None if name in ("calculus", "periodontitis") else
                            str(1 + int(_draw(appointment.patient_id, appointment.starts_at.isoformat(), name, "tooth") * 32)))
                    for name, share in FINDINGS
                    if _draw(appointment.patient_id, appointment.starts_at.isoformat(), name) < share]
        provider = appointment.provider_id or "dentist"
        visit.close_visit(self.ctx, appointment.patient_id, appointment.appointment_id,
                          [PerformedProcedure(code=code) for code in codes], findings, "", provider)
        self._closed[appointment.appointment_id] = (appointment.patient_id, self._day)
        self.actions["visit closed with findings" if findings else "visit closed, nothing found"] += 1

    def _front_office(self, now: datetime) -> None:
        """The office onboards new patients within two days (I2, I3) and checks flagged insurance."""
        for clinic in self.ctx.config.clinics:
            for task in self.ctx.tables.tasks.open_queue(clinic.clinic_id, Role.OFFICE_ADMIN.value, limit=500):
                if task.kind.value in ("onboarding", "insurance_check") and now - task.created_at >= timedelta(days=2):
                    intake.complete_task(self.ctx, task.task_id, "chain-admin")
                    self.actions[f"{task.kind.value} done"] += 1

    def _billing_office(self, now: datetime) -> None:
        """Claims go out the day after the visit, the payer answers in a week and pays in two (most); the
        patient pays their portion at the desk or within days (most)."""
        for appointment_id, (patient_id, day) in list(self._closed.items()):
            record = self.ctx.tables.visits.visit(patient_id, appointment_id)  # written when closed
            age = self._day - day
            if record.claim_id:
                status = self.ctx.tables.visits.claim(record.claim_id).status
                draw = _draw(patient_id, str(day), "payer")  # not the claim's id: it is random
                move = {"draft": ("submitted", 1), "submitted": ("denied" if draw < 0.1 else "accepted", 7),
                        "accepted": ("paid", 14)}.get(status)
                if move and age >= move[1]:
                    visit.move_claim(self.ctx, record.claim_id, move[0], "billing-office")
                    self.actions[f"claim {move[0]}"] += 1
            if record.patient_portion and age == 2 and appointment_id not in self._for_leads \
                    and _draw(patient_id, str(day), "pays") < 0.8:
                booking.record_payment(self.ctx, patient_id, appointment_id, f"desk-{appointment_id}",
                                       record.patient_portion, record.currency, "card")
                self.actions["patient portion paid at the desk"] += 1
            if age > 30:
                del self._closed[appointment_id]
