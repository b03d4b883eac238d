"""Every DynamoDB key and index attribute Revisit writes is built here, and only here.

One table per tenant (the tenant's stack owns it), single-table design; see docs/data-model.md.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

PK, SK = "pk", "sk"
TTL_ATTRIBUTE = "expires_at"

DUE_INDEX = "gsi_due"  # sparse: patients whose next recall has no cycle yet
OPEN_CYCLE_INDEX = "gsi_open_cycle"  # sparse: recall cycles still open
QUEUE_INDEX = "gsi_queue"  # sparse: open staff tasks per clinic and role
SCHEDULE_INDEX = "gsi_schedule"  # sparse: booked appointments per provider, by start time
PHONE_INDEX = "gsi_phone"  # patients by mobile number: whose is this SMS reply?
LEAD_MONTH_INDEX = "gsi_lead_month"  # referral leads per clinic by the month they were ordered (monthly report)
INACTIVE_INDEX = "gsi_inactive"  # sparse: patients with nothing booked, by the day they became (or become) inactive

INDEXES: dict[str, tuple[str, str, list[str] | None]] = {
    # name: (partition attribute, sort attribute, projected attributes or None for ALL)
    DUE_INDEX: ("due_pk", "due_sk", ["patient_id", "clinic_id", "recall_due_date"]),
    OPEN_CYCLE_INDEX: ("open_pk", "open_sk", None),
    QUEUE_INDEX: ("queue_pk", "queue_sk", None),
    SCHEDULE_INDEX: ("schedule_pk", "schedule_sk", ["appointment_id", "provider_id", "starts_at", "ends_at"]),
    PHONE_INDEX: ("phone_pk", "phone_sk", ["patient_id"]),
    LEAD_MONTH_INDEX: ("month_pk", "month_sk", None),
    INACTIVE_INDEX: ("inactive_pk", "inactive_sk", ["patient_id", "clinic_id", "treatment", "date_of_birth",
                                                    "last_visit", "status"]),
}
INDEX_ATTRIBUTES = {attr for pk, sk, _ in INDEXES.values() for attr in (pk, sk)}
KEY_ATTRIBUTES = {PK, SK, TTL_ATTRIBUTE, *INDEX_ATTRIBUTES}


BUMP_VERSION = "version = if_not_exists(version, :zero) + :one"
"""Every write to a patient's profile bumps its version (with {":zero": 0, ":one": 1})."""


def patient(patient_id: str) -> dict[str, str]:
    return {PK: f"PATIENT#{patient_id}", SK: "PROFILE"}


def due_entry(clinic_id: str, recall_due_date: date, patient_id: str) -> dict[str, str]:
    return {"due_pk": f"DUE#{clinic_id}", "due_sk": f"{recall_due_date.isoformat()}#{patient_id}"}


def due_partition(clinic_id: str) -> str:
    return f"DUE#{clinic_id}"


def due_sort_upper_bound(horizon: date) -> str:
    """Every due_sk on or before `horizon` sorts below this."""
    return (horizon + timedelta(days=1)).isoformat()


def cycle(patient_id: str, cycle_id: str) -> dict[str, str]:
    return {PK: f"PATIENT#{patient_id}", SK: f"CYCLE#{cycle_id}"}


def open_cycle_entry(clinic_id: str, recall_due_date: date, patient_id: str) -> dict[str, str]:
    return {"open_pk": f"OPEN#{clinic_id}", "open_sk": f"{recall_due_date.isoformat()}#{patient_id}"}


def open_cycle_partition(clinic_id: str) -> str:
    return f"OPEN#{clinic_id}"


def attempt(patient_id: str, cycle_id: str, step: str, channel: str) -> dict[str, str]:
    """Deterministic per patient, cycle, step and channel: the key is the send ledger."""
    return {PK: f"PATIENT#{patient_id}", SK: f"ATTEMPT#{cycle_id}#{step}#{channel}"}


def attempts_prefix() -> str:
    return "ATTEMPT#"


def patient_partition(patient_id: str) -> str:
    return f"PATIENT#{patient_id}"


def appointment(patient_id: str, appointment_id: str) -> dict[str, str]:
    return {PK: f"PATIENT#{patient_id}", SK: f"APPT#{appointment_id}"}


def payment(patient_id: str, appointment_id: str, payment_id: str) -> dict[str, str]:
    return {PK: f"PATIENT#{patient_id}", SK: f"PAYMENT#{appointment_id}#{payment_id}"}


def payments_prefix() -> str:
    return "PAYMENT#"


def appointments_prefix() -> str:
    return "APPT#"


def phone_entry(phone: str, patient_id: str) -> dict[str, str]:
    return {"phone_pk": f"PHONE#{phone}", "phone_sk": patient_id}


def phone_partition(phone: str) -> str:
    return f"PHONE#{phone}"


def schedule_entry(provider_id: str, starts_at: datetime, appointment_id: str) -> dict[str, str]:
    return {"schedule_pk": schedule_partition(provider_id), "schedule_sk": f"{_utc(starts_at)}#{appointment_id}"}


def schedule_partition(provider_id: str) -> str:
    return f"SCHED#{provider_id}"


def schedule_bound(moment: datetime) -> str:
    return _utc(moment)


def slot_lock(provider_id: str, cell: datetime) -> dict[str, str]:
    """One 15-minute cell of a provider's time. Booking creates every cell it covers in one transaction
    with the appointment, on condition that none exists: the rule against double booking."""
    return {PK: f"SLOT#{provider_id}#{_utc(cell)}", SK: "SLOT"}


def booked_day(provider_id: str, day: date) -> dict[str, str]:
    """The booked cells of one provider on one local day (attribute c<index> = appointment id), written in
    the booking's, move's and cancellation's transaction: what an availability search reads."""
    return {PK: f"BOOKED#{provider_id}", SK: day.isoformat()}


BOOKED_CELL_PREFIX = "c"


def idempotency(integrator_id: str, key: str) -> dict[str, str]:
    return {PK: f"IDEMPOTENCY#{integrator_id}#{key}", SK: "IDEMPOTENCY"}


def daily_counts_partition(clinic_id: str) -> str:
    return f"COUNTS#{clinic_id}"


def daily_counts(clinic_id: str, day: date) -> dict[str, str]:
    """What happened to a clinic's recall on one (local) day: cycles opened, booked (the report's week)."""
    return {PK: daily_counts_partition(clinic_id), SK: f"DAY#{day.isoformat()}"}


def sms_spend(month: str) -> dict[str, str]:
    """The tenant's SMS spend in one calendar month (UTC), reserved before each send."""
    return {PK: f"SMSSPEND#{month}", SK: "SMSSPEND"}


def record_view(day: date, at: datetime, staff_id: str, patient_id: str, view_id: str) -> dict[str, str]:
    """The audit log of record views, a partition per (UTC) day, in time order: an administrator reads a day.
    `view_id` keeps two views in the same second apart."""
    return {PK: record_views_partition(day), SK: f"{_utc(at)}#{staff_id}#{patient_id}#{view_id}"}


def record_views_partition(day: date) -> str:
    return f"AUDIT#{day.isoformat()}"


def unsubscribe_link(link_id: str) -> dict[str, str]:
    """An email's one-click unsubscribe link (X5): its id is all the URL carries."""
    return {PK: f"UNSUB#{link_id}", SK: "UNSUB"}


def booking_link(link_id: str) -> dict[str, str]:
    """A patient's self-booking link (X11): found by its id, the only thing its URL carries."""
    return {PK: f"LINK#{link_id}", SK: "LINK"}


def credential(key_id: str) -> dict[str, str]:
    return {PK: f"CREDENTIAL#{key_id}", SK: "CREDENTIAL"}


def _utc(moment: datetime) -> str:
    from datetime import UTC

    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def task(task_id: str) -> dict[str, str]:
    return {PK: f"TASK#{task_id}", SK: "TASK"}


def queue_entry(clinic_id: str, role: str, due_at: datetime, task_id: str) -> dict[str, str]:
    return {"queue_pk": queue_partition(clinic_id, role), "queue_sk": f"{due_at.isoformat()}#{task_id}"}


def queue_partition(clinic_id: str, role: str) -> str:
    return f"QUEUE#{clinic_id}#{role}"


def lead(patient_id: str, lead_id: str) -> dict[str, str]:
    """A referral lead lives in its patient's partition: the booking API's events find it by patient."""
    return {PK: f"PATIENT#{patient_id}", SK: lead_prefix(lead_id)}


def lead_prefix(lead_id: str) -> str:
    """The lead and its timeline entries (one Query reads both)."""
    return f"LEAD#{lead_id}"


def leads_prefix() -> str:
    return "LEAD#"


def lead_entry(patient_id: str, lead_id: str, at: datetime, entry_id: str) -> dict[str, str]:
    return {PK: f"PATIENT#{patient_id}", SK: f"{lead_prefix(lead_id)}#{_utc(at)}#{entry_id}"}


def lead_pointer(lead_id: str) -> dict[str, str]:
    """Where a lead is, by its id alone (written once with the lead; never changes)."""
    return {PK: f"LEADID#{lead_id}", SK: "LEAD"}


def open_lead_entry(clinic_id: str, stage: str, due_date: date, lead_id: str) -> dict[str, str]:
    """Open leads share the staff queues' sparse index: per clinic and stage, earliest due first."""
    return {"queue_pk": open_leads_partition(clinic_id, stage), "queue_sk": f"{due_date.isoformat()}#{lead_id}"}


def open_leads_partition(clinic_id: str, stage: str) -> str:
    return f"LEADS#{clinic_id}#{stage}"


def lead_month_entry(clinic_id: str, month: str, ordered_at: datetime, lead_id: str) -> dict[str, str]:
    """`month`: the order's month in the tenant's zone (the monthly report's)."""
    return {"month_pk": lead_month_partition(clinic_id, month),
            "month_sk": f"{_utc(ordered_at)}#{lead_id}"}


def lead_month_partition(clinic_id: str, month: str) -> str:
    return f"LEADMONTH#{clinic_id}#{month}"


def inactive_entry(clinic_id: str, inactive_from: date, patient_id: str) -> dict[str, str]:
    return {"inactive_pk": inactive_partition(clinic_id), "inactive_sk": f"{inactive_from.isoformat()}#{patient_id}"}


def inactive_partition(clinic_id: str) -> str:
    return f"INACTIVE#{clinic_id}"


def campaign(campaign_id: str) -> dict[str, str]:
    return {PK: f"CAMPAIGN#{campaign_id}", SK: "CAMPAIGN"}


def campaigns_partition() -> str:
    return "CAMPAIGNS"


def campaign_listing(campaign_id: str) -> dict[str, str]:
    """Every campaign, listed under one partition (a chain runs a handful a year): overlaps are checked there."""
    return {PK: campaigns_partition(), SK: f"CAMPAIGN#{campaign_id}"}


def campaign_member(campaign_id: str, patient_id: str) -> dict[str, str]:
    """A campaign's patients live in its partition: its results are one Query."""
    return {PK: f"CAMPAIGN#{campaign_id}", SK: f"MEMBER#{patient_id}"}


def members_prefix() -> str:
    return "MEMBER#"


def campaign_lock(patient_id: str) -> dict[str, str]:
    """A patient is in one campaign at a time: this item, created on condition, names it until the chain ends."""
    return {PK: f"PATIENT#{patient_id}", SK: "CAMPAIGN_LOCK"}


def visit(patient_id: str, appointment_id: str) -> dict[str, str]:
    """I9: one visit record per appointment (a visit closed twice finds the first)."""
    return {PK: f"PATIENT#{patient_id}", SK: f"VISIT#{appointment_id}"}


def visits_prefix() -> str:
    return "VISIT#"


def claim(patient_id: str, claim_id: str) -> dict[str, str]:
    return {PK: f"PATIENT#{patient_id}", SK: f"CLAIM#{claim_id}"}


def claims_prefix() -> str:
    return "CLAIM#"


def claim_pointer(claim_id: str) -> dict[str, str]:
    """Where a claim is, by its id alone (the billing office moves claims by id)."""
    return {PK: f"CLAIMID#{claim_id}", SK: "CLAIM"}


def plan(patient_id: str, plan_id: str) -> dict[str, str]:
    return {PK: f"PATIENT#{patient_id}", SK: f"PLAN#{plan_id}"}


def plans_prefix() -> str:
    return "PLAN#"


def intake(clinic_id: str, day: date, patient_id: str) -> dict[str, str]:
    """I15: a clinic's new patients of one local day share a partition: the daily intake report is one Query."""
    return {PK: intakes_partition(clinic_id, day), SK: patient_id}


def intakes_partition(clinic_id: str, day: date) -> str:
    return f"INTAKES#{clinic_id}#{day.isoformat()}"


def billed_visit(clinic_id: str, day: date, appointment_id: str) -> dict[str, str]:
    """I12, I17: a clinic's visits billed on one local day (amounts and ids), for the daily report."""
    return {PK: billed_partition(clinic_id, day), SK: appointment_id}


def billed_partition(clinic_id: str, day: date) -> str:
    return f"BILLED#{clinic_id}#{day.isoformat()}"


def notice(kind: str, key: str) -> dict[str, str]:
    """A staff notice's ledger row (the administrator's nightly summary, a lead dentist's alert)."""
    return {PK: f"NOTICE#{kind}", SK: key}


def table_definition(table_name: str) -> dict:
    """CreateTable arguments (offline runtime, DynamoDB Local); the CDK data construct mirrors them."""
    attributes = {PK, SK} | INDEX_ATTRIBUTES
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": PK, "KeyType": "HASH"}, {"AttributeName": SK, "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": name,
                "KeySchema": [{"AttributeName": pk, "KeyType": "HASH"}, {"AttributeName": sk, "KeyType": "RANGE"}],
                "Projection": (
                    {"ProjectionType": "INCLUDE", "NonKeyAttributes": projected}
                    if projected
                    else {"ProjectionType": "ALL"}
                ),
            }
            for name, (pk, sk, projected) in INDEXES.items()
        ],
    }
