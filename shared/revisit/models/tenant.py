"""The tenant configuration: one clinic chain. Validated at synth, at load and at run time."""

from datetime import date, time, timedelta
from decimal import Decimal
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from revisit.domain.reactivation import Treatment
from revisit.domain.sms import SMS_LINK_BASE_MAX
from revisit.models.common import Channel, Email, Identifier, Language, PhoneE164, PlainText, Role


class Strict(BaseModel):
    """Validators are built when first used, not at import (cold start, issue 14); so a default that is a model is
    a default_factory: an instance made in a class body would build its validator at import."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as 'Europe/Madrid')") from None
    return value


class SendWindow(Strict):
    """When patient messages may go out, in the clinic's local time."""

    start: time = time(9, 0)
    end: time = time(19, 0)
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(default=[0, 1, 2, 3, 4, 5], min_length=1)
    """0 = Monday."""

    @model_validator(mode="after")
    def _start_before_end(self) -> "SendWindow":
        if self.start >= self.end:
            raise ValueError("send_window.start must be before send_window.end")
        return self


LABEL_MAX = 26
"""Characters of a recall or appointment type's label: SMS name it, within their segment budget."""
Label = Annotated[str, Field(min_length=1, max_length=LABEL_MAX)]

SMS_NAME_MAX = 24
"""Characters of a clinic's name in an SMS: the segment budget (domain/sms.py) holds up to this."""


class Clinic(Strict):
    clinic_id: Identifier
    name: PlainText
    sms_name: Annotated[str, Field(min_length=1, max_length=SMS_NAME_MAX)] | None = None
    """The clinic's name in SMS; required when `name` is longer than SMS_NAME_MAX characters."""
    time_zone: str
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    language: Language
    phone: PhoneE164
    address: str = ""
    send_window: SendWindow = Field(default_factory=SendWindow)
    working_weekdays: list[Annotated[int, Field(ge=0, le=6)]] = [0, 1, 2, 3, 4]

    _tz = field_validator("time_zone")(classmethod(lambda cls, v: _time_zone(v)))

    @model_validator(mode="after")
    def _short_enough_for_sms(self) -> "Clinic":
        if self.sms_name is None and len(self.name) > SMS_NAME_MAX:
            raise ValueError(f"name is longer than {SMS_NAME_MAX} characters: set sms_name, the name SMS use")
        return self

    @property
    def name_in_sms(self) -> str:
        return self.sms_name or self.name


class RecallType(Strict):
    recall_type: Identifier
    interval_months: int = Field(ge=0)
    interval_days: int = Field(default=0, ge=0)
    labels: dict[Language, Label]
    """What the patient is due for, in each language ('check-up and cleaning')."""

    @model_validator(mode="after")
    def _positive_interval(self) -> "RecallType":
        if self.interval_months * 31 + self.interval_days <= 0:
            raise ValueError("interval_months and interval_days must add up to a positive interval")
        return self


class LadderStep(Strict):
    step: Identifier
    channel: Channel
    after_days: int = Field(ge=0)
    """Days after the previous contact (or after the cycle opens, for the first step)."""


INSTRUCTIONS_MAX = 86
"""Characters of pre-visit instructions: with the clinic's name and the time they fit one GSM-7 or two
UCS-2 segments (domain/sms.py SEGMENT_BUDGET). The email carries the same text."""


class AppointmentType(Strict):
    """What can be booked: its length, when it is reminded, and what the patient must do before (R20, R22)."""

    appointment_type: Identifier
    duration_minutes: int = Field(ge=5, le=480)
    labels: dict[Language, Label]
    reminder_days_before: int = Field(default=2, ge=1, le=30)
    """R22: the reminder goes out this many days before, inside the send window (when `reminders` is unset)."""
    reminders: list[Annotated[str, Field(pattern=r"^[1-9][0-9]{0,2}[dh]$")]] = Field(default=[], max_length=5)
    """X8: the reminder cadence, e.g. ["7d", "2d", "2h"]: days or hours before the visit."""
    satisfies: list[Identifier] = []
    """X1: the recall types a completed visit of this type does (their last-done date becomes the visit's)."""
    instructions: dict[Language, Annotated[str, Field(min_length=1, max_length=INSTRUCTIONS_MAX)]] = {}
    """R20: sent before the 24-hour mark (e.g. fasting), at the last moment the send window allows; none if empty."""

    @property
    def reminder_offsets(self) -> list[tuple[str, timedelta]]:
        """(label, time before the visit), earliest reminder first."""
        labels = self.reminders or [f"{self.reminder_days_before}d"]
        offsets = {label: timedelta(**{"days" if label.endswith("d") else "hours": int(label[:-1])}) for label in labels}
        return sorted(offsets.items(), key=lambda item: item[1], reverse=True)

    @model_validator(mode="after")
    def _on_the_grid(self) -> "AppointmentType":
        if self.duration_minutes % SLOT_MINUTES:
            raise ValueError(f"duration_minutes must be a multiple of {SLOT_MINUTES}")
        return self


SLOT_MINUTES = 15
"""The booking grid: appointments start and end on it (availability, and the slot locks behind no double booking)."""


class WorkingHours(Strict):
    weekday: int = Field(ge=0, le=6)
    """0 = Monday."""
    start: time
    end: time

    @model_validator(mode="after")
    def _start_before_end(self) -> "WorkingHours":
        if self.start >= self.end:
            raise ValueError("start must be before end")
        if self.start.minute % SLOT_MINUTES or self.end.minute % SLOT_MINUTES:
            raise ValueError(f"working hours start and end on the {SLOT_MINUTES}-minute grid")
        return self


class Provider(Strict):
    """A dentist, hygienist or doctor who sees patients at one clinic."""

    provider_id: Identifier
    clinic_id: Identifier
    name: PlainText
    appointment_types: list[Identifier] = Field(min_length=1)
    hours: list[WorkingHours] = Field(min_length=1)


class StaffMember(Strict):
    staff_id: Identifier
    name: PlainText
    role: Role
    email: Email
    clinic_id: Identifier | None = None
    """None: works for the whole chain."""
    alerts: bool = False


class Deployment(Strict):
    """Where the tenant's stack goes: `make deploy` refuses credentials of another account."""

    account: Annotated[str, Field(pattern=r"^\d{12}$")]
    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")]


class SweepSettings(Strict):
    local_time: time = time(2, 0)
    """When the nightly sweep runs, in the tenant's time zone."""
    lead_days: int = Field(default=14, ge=0, le=90)
    """A recall enters the ladder this many days before it falls due."""
    page_size: int = Field(default=200, ge=1, le=1000)
    """Due patients per page; each page is one execution, so its history stays bounded (about 7 events a
    start: 200 a page is about 1,400 of Step Functions' 25,000)."""
    max_recalls_per_clinic_per_night: int = Field(default=2000, ge=1)
    """A larger backlog is spread over nights, oldest due first (the rest stays on the due index)."""


class RecallLoopSettings(Strict):
    """X1, X3: how a patient comes back into recall when a visit does not happen or nobody answers."""

    rebook_after_days: int = Field(default=14, ge=0, le=365)
    """After a cancelled or missed recall visit, the patient's next recall cycle opens this many days later."""
    resurface_after_days: int = Field(default=90, ge=1, le=730)
    """After a ladder that reached no booking (manual review, no answer), a new cycle this many days later."""
    max_cycles_per_year: int = Field(default=3, ge=1, le=12)
    """Cycles opened for a patient in 365 days; past it the patient is handed to reactivation (Inactive)."""


class Procedure(Strict):
    """A control procedure a doctor can order (F1): what is booked for it, and its name in each language."""

    procedure_id: Identifier
    appointment_type: Identifier
    labels: dict[Language, Label]


class ReferralSettings(Strict):
    """Referral follow-up (F3, F6): when the call is, how often an unanswered call is tried again."""

    call_days_before: int = Field(default=2, ge=0, le=60)
    """F3: the call reminder this many days before the due date, moved to the previous working day."""
    call_attempts: int = Field(default=3, ge=1, le=10)
    """F6: calls with no answer before the lead fails as never reached."""
    retry_after_days: int = Field(default=1, ge=1, le=14)
    """F6: the next try, this many working days after an unanswered call."""
    call_time: time = time(10, 0)
    """The call reminder's time on its day, in the clinic's zone (the registrar's notice goes then)."""


class ReportSettings(Strict):
    daily_local_time: time = time(6, 0)


class ReactivationLink(Strict):
    """A5: one link of a reactivation chain: its channel, sent this many days after the previous link."""

    channel: Channel
    after_days: int = Field(ge=0, le=60)


class ReactivationSettings(Strict):
    inactive_after_months: int = Field(default=18, ge=3, le=120)
    """A1: no visit for this long and nothing booked: the patient is inactive."""
    chain: list[ReactivationLink] = Field(default_factory=lambda: [
        ReactivationLink(channel=Channel.EMAIL, after_days=0), ReactivationLink(channel=Channel.SMS, after_days=7),
        ReactivationLink(channel=Channel.CALL_TASK, after_days=7)], min_length=1)
    """A5: email first, SMS a week later to those without email or without response, then a call task."""
    answer_days: int = Field(default=7, ge=1, le=60)
    """After the last link, how long a response still counts before the patient is 'never reached'."""

    @field_validator("chain")
    @classmethod
    def _reaches_patients(cls, chain: list[ReactivationLink]) -> list[ReactivationLink]:
        if any(link.channel not in (Channel.EMAIL, Channel.SMS, Channel.CALL_TASK) for link in chain):
            raise ValueError("a reactivation link is email, sms or call_task")
        return chain


class ProcedureCategory(Strict):
    """I17: a group of procedures a plan covers at one percentage (preventive, basic, major)."""

    category: Identifier
    deductible_applies: bool = True
    x12_service_type: Annotated[str, Field(pattern=r"^[A-Z0-9]{1,2}$")] = "35"
    """The X12 service type code a 271 reports this category under (41 routine preventive dental, 25
    restorative, 24 periodontics, 36 crowns; 35 dental care in general)."""


ServiceCodeId = Annotated[str, Field(pattern=r"^[A-Z][0-9A-Z]{3,7}$")]
"""A service code, CDT style (D0120 periodic oral evaluation)."""
Fee = Annotated[Decimal, Field(ge=0, max_digits=10, decimal_places=2)]


class ServiceCode(Strict):
    code: ServiceCodeId
    category: Identifier
    labels: dict[Language, Annotated[str, Field(min_length=1, max_length=80)]]


class FeeSchedule(Strict):
    """I11: what the clinics charge for each service code, in their currency."""

    clinics: list[Identifier] = Field(min_length=1)
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    fees: dict[ServiceCodeId, Fee]


class FindingRule(Strict):
    """I13: what a finding at the examination puts on the treatment plan."""

    finding: Identifier
    procedures: list[ServiceCodeId] = Field(min_length=1)
    treatment: Treatment | None = None
    """A4: the treatment segment a patient with this plan belongs to (reactivation's message)."""


class BillingSettings(Strict):
    categories: list[ProcedureCategory] = []
    services: list[ServiceCode] = []
    fee_schedules: list[FeeSchedule] = []
    findings: list[FindingRule] = []

    @model_validator(mode="after")
    def _consistent(self) -> "BillingSettings":
        categories = {c.category for c in self.categories}
        codes = [s.code for s in self.services]
        if len(categories) != len(self.categories) or len(codes) != len(set(codes)):
            raise ValueError("billing: category ids and service codes must be unique")
        for service in self.services:
            if service.category not in categories:
                raise ValueError(f"billing.services {service.code}: unknown category {service.category!r}")
        for index, schedule in enumerate(self.fee_schedules):
            unpriced = sorted(set(codes) - set(schedule.fees))
            unknown = sorted(set(schedule.fees) - set(codes))
            if unpriced or unknown:
                raise ValueError(f"billing.fee_schedules[{index}]: "
                                 + (f"no fee for {unpriced}" if unpriced else f"fees for unknown codes {unknown}"))
        clinics = [c for s in self.fee_schedules for c in s.clinics]
        twice = sorted({c for c in clinics if clinics.count(c) > 1})
        if twice:
            raise ValueError(f"billing.fee_schedules: clinics in two fee schedules: {twice}")
        for rule in self.findings:
            unknown = sorted(set(rule.procedures) - set(codes))
            if unknown:
                raise ValueError(f"billing.findings {rule.finding}: unknown service codes {unknown}")
        return self

    def service(self, code: str) -> ServiceCode | None:
        return next((s for s in self.services if s.code == code), None)

    def schedule_for(self, clinic_id: str) -> FeeSchedule | None:
        return next((s for s in self.fee_schedules if clinic_id in s.clinics), None)

    def category(self, category: str) -> "ProcedureCategory":
        return next(c for c in self.categories if c.category == category)

    @property
    def plan_for(self) -> dict[str, list[str]]:
        return {rule.finding: list(rule.procedures) for rule in self.findings}


class X12Settings(Strict):
    """I16: who this tenant is in a 270 request to its clearinghouse (005010X279A1)."""

    endpoint: HttpUrl
    """The clearinghouse's real-time HTTPS endpoint (CORE connectivity); its credentials live in Secrets Manager."""
    sender_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9 ]{1,15}$")]
    receiver_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9 ]{1,15}$")]
    provider_name: Annotated[str, Field(min_length=1, max_length=60)]
    provider_npi: Annotated[str, Field(pattern=r"^[0-9]{10}$")]
    payer_ids: dict[str, Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,80}$")]] = {}
    """The payer id the clearinghouse knows each payer by (the policy's payer name: id)."""


class EligibilitySettings(Strict):
    provider: Literal["stored-coverage", "x12"] = "stored-coverage"
    x12: X12Settings | None = None

    @model_validator(mode="after")
    def _x12_configured(self) -> "EligibilitySettings":
        if self.provider == "x12" and self.x12 is None:
            raise ValueError("eligibility.x12 is required when eligibility.provider is x12")
        return self


class IntakeSettings(Strict):
    pre_visit_days_before: int = Field(default=1, ge=0, le=14)
    """I6: the hygienist's pre-visit task falls due this many days before a new patient's first visit."""
    next_visit_days: int = Field(default=3, ge=0, le=30)
    """I14: the hygienist's task to book the planned treatment falls due this many days after the visit."""


class SelfSchedulingSettings(Strict):
    """X11: the link in recall messages to the patient's own booking page."""

    enabled: bool = True
    in_sms: bool = True
    """The link in the recall SMS too (one segment more: domain/sms.py); off, only the email carries it."""
    link_days: int = Field(default=30, ge=1, le=90)
    """A link opens its page for this many days after the last message that carried it."""
    search_days: int = Field(default=14, ge=1, le=60)
    """The page shows free times this many days at once (and a button for the next ones)."""
    window_days: int = Field(default=90, ge=14, le=365)
    """How far ahead a patient may book from a link (the recall is for now, not for next year)."""


class TenantConfig(Strict):
    tenant_id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{2,19}$")]
    name: PlainText
    time_zone: str
    default_language: Language = Language.EN
    sender_email: Email
    admin_email: Email
    public_api_url: HttpUrl | None = None
    """The booking API's public address (a custom domain) for the links in patients' emails; unset, the
    stage's own execute-api address is used."""
    deployment: Deployment | None = None
    """The AWS account and region of the tenant's stack (docs/deploy.md); unset, `make synth` uses
    CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION, and `make deploy` refuses."""
    ops_email: Email | None = None
    """Who receives the stack's alarms (by email, from the ops topic); the administrator if not set."""
    lambda_reserved_concurrency: int | None = Field(default=None, ge=1, le=1000)
    """Concurrency reserved for each of the tenant's functions; unset (the default) reserves none, so many
    tenants share an account's quota (docs/capacity.md)."""
    ses_configuration_set: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None
    """The SES configuration set every email is sent with (its event destinations record deliveries, bounces
    and complaints); the functions are allowed to use it and no other (docs/deploy.md, 'Email')."""
    sms_sender_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,11}$")] = "Revisit"
    sms_gsm_folding: bool = True
    """SMS text folded to GSM-7 look-alikes (á to a, curly quotes to straight): one segment, not three."""
    sms_countries: list[Annotated[str, Field(pattern=r"^[A-Z]{2}$")]] = []
    """Countries SMS may go to; empty means the clinics' own countries (no SMS pumping to the world)."""
    sms_monthly_budget_usd: Decimal | None = Field(default=None, gt=0, max_digits=10, decimal_places=2)
    """SMS spend a calendar month (UTC) may not pass, at list prices per segment; none if unset."""
    clinics: list[Clinic] = Field(min_length=1)
    recall_types: list[RecallType] = Field(min_length=1)
    contact_ladder: list[LadderStep] = Field(min_length=1)
    staff: list[StaffMember] = []
    appointment_types: list[AppointmentType] = []
    providers: list[Provider] = []
    closure_days: list[date] = []
    """Chain-wide closures beyond the public holidays of each clinic's country (which are always closed)."""
    refusal_reasons: list[Identifier] = ["treated-elsewhere", "moved-away", "cost", "no-time", "not-needed", "other"]
    refusal_reason_labels: dict[Identifier, dict[Language, Label]] = {}
    """How a refusal reason reads in each language (a lead's comment); a reason without one reads as its code."""
    procedures: list[Procedure] = []
    referral: ReferralSettings = Field(default_factory=ReferralSettings)
    reactivation: ReactivationSettings = Field(default_factory=ReactivationSettings)
    sweep: SweepSettings = Field(default_factory=SweepSettings)
    recall: RecallLoopSettings = Field(default_factory=RecallLoopSettings)
    reports: ReportSettings = Field(default_factory=ReportSettings)
    billing: BillingSettings = Field(default_factory=BillingSettings)
    eligibility: EligibilitySettings = Field(default_factory=EligibilitySettings)
    intake: IntakeSettings = Field(default_factory=IntakeSettings)
    self_scheduling: SelfSchedulingSettings = Field(default_factory=SelfSchedulingSettings)

    _tz = field_validator("time_zone")(classmethod(lambda cls, v: _time_zone(v)))

    @field_validator("public_api_url")
    @classmethod
    def _https(cls, value: HttpUrl | None) -> HttpUrl | None:
        if value is not None and value.scheme != "https":
            raise ValueError("must be an https:// address (links in patients' emails)")
        return value

    @model_validator(mode="after")
    def _sms_link_fits(self) -> "TenantConfig":
        scheduling, url = self.self_scheduling, str(self.public_api_url or "").rstrip("/")
        if scheduling.enabled and scheduling.in_sms and len(url) > SMS_LINK_BASE_MAX:
            raise ValueError(f"public_api_url: at most {SMS_LINK_BASE_MAX} characters for the booking link in recall "
                             f"SMS (X6, one segment more), {len(url)} given; use a shorter domain or set "
                             "self_scheduling.in_sms: false (then only emails carry it)")
        return self

    @model_validator(mode="after")
    def _consistent(self) -> "TenantConfig":
        for name, ids in (
            ("clinics", [c.clinic_id for c in self.clinics]),
            ("recall_types", [r.recall_type for r in self.recall_types]),
            ("contact_ladder", [s.step for s in self.contact_ladder]),
            ("staff", [s.staff_id for s in self.staff]),
            ("appointment_types", [a.appointment_type for a in self.appointment_types]),
            ("providers", [p.provider_id for p in self.providers]),
            ("procedures", [p.procedure_id for p in self.procedures]),
        ):
            if len(ids) != len(set(ids)):
                raise ValueError(f"{name}: ids must be unique")
        clinic_ids = {c.clinic_id for c in self.clinics}
        for member in self.staff:
            if member.clinic_id is not None and member.clinic_id not in clinic_ids:
                raise ValueError(f"staff {member.staff_id}: unknown clinic_id {member.clinic_id!r}")
        recall_ids = {r.recall_type for r in self.recall_types}
        for kind in self.appointment_types:
            unknown = [rt for rt in kind.satisfies if rt not in recall_ids]
            if unknown:
                raise ValueError(f"appointment_types {kind.appointment_type}: satisfies unknown recall types {unknown}")
        type_ids = {a.appointment_type for a in self.appointment_types}
        for provider in self.providers:
            if provider.clinic_id not in clinic_ids:
                raise ValueError(f"providers {provider.provider_id}: unknown clinic_id {provider.clinic_id!r}")
            unknown = sorted(set(provider.appointment_types) - type_ids)
            if unknown:
                raise ValueError(f"providers {provider.provider_id}: unknown appointment_types {unknown}")
        unknown_reasons = sorted(set(self.refusal_reason_labels) - set(self.refusal_reasons))
        if unknown_reasons:
            raise ValueError(f"refusal_reason_labels: not refusal reasons: {unknown_reasons}")
        for procedure in self.procedures:
            if procedure.appointment_type not in type_ids:
                raise ValueError(f"procedures {procedure.procedure_id}: unknown appointment_type "
                                 f"{procedure.appointment_type!r}")
        languages = {c.language for c in self.clinics} | {self.default_language}
        for procedure in self.procedures:
            missing = languages - set(procedure.labels)
            if missing:
                raise ValueError(f"procedures {procedure.procedure_id}: labels missing for {sorted(missing)}")
        for service in self.billing.services:
            missing = languages - set(service.labels)
            if missing:
                raise ValueError(f"billing.services {service.code}: labels missing for {sorted(missing)}")
        for schedule in self.billing.fee_schedules:
            unknown = sorted(set(schedule.clinics) - clinic_ids)
            if unknown:
                raise ValueError(f"billing.fee_schedules: unknown clinics {unknown}")
        unpriced = sorted(clinic_ids - {c for s in self.billing.fee_schedules for c in s.clinics})
        if self.billing.services and unpriced:
            raise ValueError(f"billing.fee_schedules: no fee schedule for clinics {unpriced} (visits there could not be billed)")
        for rt in self.recall_types:
            missing = languages - set(rt.labels)
            if missing:
                raise ValueError(f"recall_types {rt.recall_type}: labels missing for {sorted(missing)}")
        return self

    @property
    def sms_allowed_countries(self) -> frozenset[str]:
        return frozenset(self.sms_countries or {c.country for c in self.clinics})

    def clinic(self, clinic_id: str) -> "Clinic":
        for clinic in self.clinics:
            if clinic.clinic_id == clinic_id:
                return clinic
        raise KeyError(clinic_id)

    def recall_type(self, recall_type: str) -> "RecallType":
        for rt in self.recall_types:
            if rt.recall_type == recall_type:
                return rt
        raise KeyError(recall_type)

    def appointment_type(self, appointment_type: str) -> "AppointmentType":
        for at in self.appointment_types:
            if at.appointment_type == appointment_type:
                return at
        raise KeyError(appointment_type)

    def recall_visit_type(self, recall_types: list[str]) -> AppointmentType | None:
        """The visit booked for what is due: the first appointment type that satisfies all of it, else the first
        that satisfies any of it."""
        due = set(recall_types)
        return next((t for t in self.appointment_types if due <= set(t.satisfies)), None) or next(
            (t for t in self.appointment_types if set(t.satisfies) & due), None)

    def refusal_label(self, reason: str, language: Language) -> str:
        return self.refusal_reason_labels.get(reason, {}).get(language) or reason.replace("-", " ")

    def procedure(self, procedure_id: str) -> "Procedure":
        for procedure in self.procedures:
            if procedure.procedure_id == procedure_id:
                return procedure
        raise KeyError(procedure_id)

    def staff_member(self, staff_id: str) -> "StaffMember":
        for member in self.staff:
            if member.staff_id == staff_id:
                return member
        raise KeyError(staff_id)

    def provider(self, provider_id: str) -> "Provider":
        for provider in self.providers:
            if provider.provider_id == provider_id:
                return provider
        raise KeyError(provider_id)

    def staff_with_role(self, role: Role, clinic_id: str | None = None) -> list[StaffMember]:
        return [
            s for s in self.staff if s.role == role and (clinic_id is None or s.clinic_id in (None, clinic_id))
        ]
