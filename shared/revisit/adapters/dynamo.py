"""DynamoDB repositories, built for one tenant's table. Only this module talks to DynamoDB."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError
from pydantic import BaseModel

from revisit.adapters import dynamo_keys as keys
from revisit.domain.recall_dates import next_due_recall
from revisit.errors import Conflict, NotFound, TransientError
from revisit.models.entities import (
    Appointment,
    CommunicationAttempt,
    CycleStatus,
    Patient,
    RecallCycle,
    RecallStatus,
    StaffTask,
    TaskStatus,
)
from revisit.models.tenant import TenantConfig

M = TypeVar("M", bound=BaseModel)
_TRANSIENT = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
}

CYCLE_STATUS_TO_RECALL_STATUS = {
    CycleStatus.PENDING: RecallStatus.PENDING,
    CycleStatus.CONTACTED: RecallStatus.CONTACTED,
    CycleStatus.MANUAL_REVIEW: RecallStatus.MANUAL_REVIEW,
    CycleStatus.BOOKED: RecallStatus.BOOKED,
    CycleStatus.DECLINED: RecallStatus.DECLINED,
    CycleStatus.OPTED_OUT: RecallStatus.OPTED_OUT,
    CycleStatus.NOT_NEEDED: RecallStatus.NOT_NEEDED,
}
OPEN_STATUSES = [s.value for s in CycleStatus if s.is_open]


@contextmanager
def translated_errors(kind: str, key: str) -> Iterator[None]:
    """DynamoDB error codes become domain errors, so nothing above this layer reads botocore strings."""
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ConditionalCheckFailedException":
            raise Conflict(f"{kind} {key} changed or is in another state") from None
        if code == "TransactionCanceledException":
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if any(r in _TRANSIENT or r == "TransactionConflict" for r in reasons):
                raise TransientError(f"{kind} {key}: {code} {reasons}") from None
            raise Conflict(f"{kind} {key} changed or is in another state ({reasons})") from None
        if code in _TRANSIENT:
            raise TransientError(f"{kind} {key}: {code}") from None
        raise


def to_item(model: BaseModel) -> dict[str, Any]:
    return json.loads(model.model_dump_json(exclude_none=True), parse_float=Decimal)


def from_item(model: type[M], item: dict[str, Any]) -> M:
    """Keys, index attributes and derived attributes (the due date kept for the index) are not the model's."""
    return model.model_validate({k: _plain(v) for k, v in item.items() if k in model.model_fields})


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _encode_token(last_key: dict | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(last_key).encode()).decode() if last_key else None


def _decode_token(token: str | None) -> dict | None:
    return json.loads(base64.urlsafe_b64decode(token.encode())) if token else None


class PatientRepository:
    def __init__(self, table: Any, config: TenantConfig) -> None:
        self._table = table
        self._recall_types = {rt.recall_type: rt for rt in config.recall_types}
        self._combine_days = config.sweep.lead_days

    def due_attributes(self, patient: Patient) -> dict[str, Any]:
        """The sparse due-index entry: present only while the patient's next recall has no cycle yet,
        and only for patients who can be recalled (active, not opted out, nothing booked)."""
        due = next_due_recall(patient.recalls, self._recall_types, self._combine_days)
        if due is None:
            return {}
        attributes: dict[str, Any] = {
            "recall_due_date": due.due_date.isoformat(),
            "recall_types_due": list(due.recall_types),
        }
        recallable = (
            not patient.opted_out
            and patient.next_appointment_at is None
            and patient.status.value != "Inactive"
            and (patient.recall_cycle_id is None or patient.recall_cycle_id < due.due_date.isoformat())
        )
        if recallable:
            attributes |= keys.due_entry(patient.clinic_id, due.due_date, patient.patient_id)
        return attributes

    def item(self, patient: Patient) -> dict[str, Any]:
        phone = keys.phone_entry(patient.phone, patient.patient_id) if patient.phone else {}
        return keys.patient(patient.patient_id) | to_item(patient) | self.due_attributes(patient) | phone

    def by_phone(self, phone: str) -> list[Patient]:
        """Everyone with this mobile number (a family may share one), read from the phone index."""
        page = self._table.query(IndexName=keys.PHONE_INDEX,
                                 KeyConditionExpression=Key("phone_pk").eq(keys.phone_partition(phone)))
        return [self.get(item["patient_id"]) for item in page.get("Items", [])]

    def save(self, patient: Patient) -> None:
        with translated_errors("patient", patient.patient_id):
            self._table.put_item(Item=self.item(patient))

    def create(self, patient: Patient) -> None:
        with translated_errors("patient", patient.patient_id):
            self._table.put_item(Item=self.item(patient), ConditionExpression=Attr(keys.PK).not_exists())

    def save_many(self, patients: list[Patient]) -> None:
        with self._table.batch_writer() as batch:
            for patient in patients:
                batch.put_item(Item=self.item(patient))

    def get(self, patient_id: str) -> Patient:
        with translated_errors("patient", patient_id):
            item = self._table.get_item(Key=keys.patient(patient_id), ConsistentRead=True).get("Item")
        if item is None:
            raise NotFound("patient", patient_id)
        return from_item(Patient, item)

    def set_opted_out(self, patient_id: str, opted_out: bool) -> None:
        update = "SET opted_out = :o" + (" REMOVE due_pk, due_sk" if opted_out else "")
        with translated_errors("patient", patient_id):
            self._table.update_item(
                Key=keys.patient(patient_id),
                UpdateExpression=update,
                ExpressionAttributeValues={":o": opted_out},
                ConditionExpression=Attr(keys.PK).exists(),
            )

    def due_page(
        self, clinic_id: str, horizon: date, page_size: int, page_token: str | None
    ) -> tuple[list[dict[str, Any]], str | None, int]:
        """R1: patients whose recall falls due on or before `horizon`. A Query of the sparse due index:
        it reads only patients who are due. Returns (entries, next page token, items read)."""
        kwargs: dict[str, Any] = {
            "IndexName": keys.DUE_INDEX,
            "KeyConditionExpression": Key("due_pk").eq(keys.due_partition(clinic_id))
            & Key("due_sk").lt(keys.due_sort_upper_bound(horizon)),
            "Limit": page_size,
        }
        start = _decode_token(page_token)
        if start:
            kwargs["ExclusiveStartKey"] = start
        with translated_errors("due index", clinic_id):
            page = self._table.query(**kwargs)
        entries = [_plain(item) for item in page.get("Items", [])]
        return entries, _encode_token(page.get("LastEvaluatedKey")), page.get("ScannedCount", len(entries))

    def count_due(self, clinic_id: str, horizon: date) -> int:
        return _count(self._table, IndexName=keys.DUE_INDEX,
                      KeyConditionExpression=Key("due_pk").eq(keys.due_partition(clinic_id))
                      & Key("due_sk").lt(keys.due_sort_upper_bound(horizon)))


class RecallCycleRepository:
    """Each write is one conditional item write, ordered so that a crash between two of them is harmless and
    the retried step finishes the job. (No TransactWriteItems: nothing here needs two items to change as one,
    and single-item writes cost one write unit where a transaction costs two.)"""

    def __init__(self, table: Any) -> None:
        self._table = table

    def open(self, cycle: RecallCycle) -> None:
        """Creates the cycle once (a second open raises Conflict), then takes the patient off the due index."""
        item = (
            keys.cycle(cycle.patient_id, cycle.cycle_id)
            | to_item(cycle)
            | keys.open_cycle_entry(cycle.clinic_id, cycle.recall_due_date, cycle.patient_id)
        )
        with translated_errors("recall cycle", cycle.execution_name):
            self._table.put_item(Item=item, ConditionExpression=Attr(keys.PK).not_exists())
        self.mark_patient_in_cycle(cycle)

    def mark_patient_in_cycle(self, cycle: RecallCycle) -> None:
        """Idempotent: a retried step calls it again. Never moves the patient back to an older cycle."""
        try:
            with translated_errors("patient", cycle.patient_id):
                self._table.update_item(
                    Key=keys.patient(cycle.patient_id),
                    UpdateExpression="SET recall_cycle_id = :c, recall_status = :s REMOVE due_pk, due_sk",
                    ConditionExpression="attribute_exists(pk) AND "
                    "(attribute_not_exists(recall_cycle_id) OR recall_cycle_id <= :c)",
                    ExpressionAttributeValues={":c": cycle.cycle_id, ":s": RecallStatus.PENDING.value},
                )
        except Conflict:
            pass  # the patient is already in a newer cycle

    def get(self, patient_id: str, cycle_id: str) -> RecallCycle:
        with translated_errors("recall cycle", f"{patient_id}/{cycle_id}"):
            item = self._table.get_item(Key=keys.cycle(patient_id, cycle_id), ConsistentRead=True).get("Item")
        if item is None:
            raise NotFound("recall cycle", f"{patient_id}/{cycle_id}")
        return from_item(RecallCycle, item)

    def record_progress(
        self,
        cycle: RecallCycle,
        *,
        step_index: int,
        next_contact_at: datetime,
        status: CycleStatus | None = None,
        contacted_at: datetime | None = None,
        channel: str | None = None,
    ) -> None:
        """Moves the ladder on by one rung. Conditional on the rung we read, so two racing tries
        cannot both advance it, and on the cycle still being open."""
        sets = ["step_index = :next", "next_contact_at = :at"]
        values: dict[str, Any] = {
            ":next": step_index,
            ":at": next_contact_at.isoformat(),
            ":expected": cycle.step_index,
            ":open": OPEN_STATUSES,
        }
        if status is not None:
            sets.append("#status = :status")
            values[":status"] = status.value
        if contacted_at is not None:
            sets += ["last_contact_at = :contacted", "last_channel = :channel", "attempts = attempts + :one"]
            values |= {":contacted": contacted_at.isoformat(), ":channel": channel, ":one": 1}
        with translated_errors("recall cycle", cycle.execution_name):
            self._table.update_item(
                Key=keys.cycle(cycle.patient_id, cycle.cycle_id),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression="step_index = :expected AND #status IN (:o0, :o1, :o2)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=_expand_open(values),
            )
        if status is not None and status != cycle.status:  # the patient already shows an unchanged status
            self._set_patient_status(cycle, status)

    def close(self, cycle: RecallCycle, status: CycleStatus, reason: str, at: datetime) -> bool:
        """Ends an open cycle (booked, declined, opted out, not needed). False if it was already closed:
        a cycle never leaves Booked for Contacted, or any closed state for another."""
        try:
            with translated_errors("recall cycle", cycle.execution_name):
                self._table.update_item(
                    Key=keys.cycle(cycle.patient_id, cycle.cycle_id),
                    UpdateExpression="SET #status = :status, closed_at = :at, close_reason = :reason "
                    "REMOVE open_pk, open_sk",
                    ConditionExpression="#status IN (:o0, :o1, :o2)",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues=_expand_open(
                        {":status": status.value, ":at": at.isoformat(), ":reason": reason, ":open": OPEN_STATUSES}
                    ),
                )
        except Conflict:
            return False
        self._set_patient_status(cycle, status)
        return True

    def _set_patient_status(self, cycle: RecallCycle, status: CycleStatus) -> None:
        """The patient's recall status mirrors its latest cycle only (an older cycle never overwrites it)."""
        try:
            with translated_errors("patient", cycle.patient_id):
                self._table.update_item(
                    Key=keys.patient(cycle.patient_id),
                    UpdateExpression="SET recall_status = :rs",
                    ConditionExpression="recall_cycle_id = :c",
                    ExpressionAttributeValues={":rs": CYCLE_STATUS_TO_RECALL_STATUS[status].value, ":c": cycle.cycle_id},
                )
        except Conflict:
            pass

    def save_details(self, cycle: RecallCycle, **fields: Any) -> None:
        """Fills in facts found along the way (eligibility, suggested date); never touches status."""
        values = json.loads(json.dumps({k: v for k, v in fields.items()}, default=_json_default), parse_float=Decimal)
        names = {f"#{k}": k for k in values}
        with translated_errors("recall cycle", cycle.execution_name):
            self._table.update_item(
                Key=keys.cycle(cycle.patient_id, cycle.cycle_id),
                UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in values),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={f":{k}": v for k, v in values.items()},
                ConditionExpression=Attr(keys.PK).exists(),
            )

    def open_cycles(self, clinic_id: str) -> Iterator[RecallCycle]:
        start = None
        while True:
            kwargs: dict[str, Any] = {
                "IndexName": keys.OPEN_CYCLE_INDEX,
                "KeyConditionExpression": Key("open_pk").eq(keys.open_cycle_partition(clinic_id)),
            }
            if start:
                kwargs["ExclusiveStartKey"] = start
            page = self._table.query(**kwargs)
            for item in page.get("Items", []):
                yield from_item(RecallCycle, item)
            start = page.get("LastEvaluatedKey")
            if not start:
                return

    def count_open(self, clinic_id: str, status: CycleStatus | None = None) -> int:
        """Open cycles at a clinic (in one status, if given), counted by DynamoDB: no items come back."""
        kwargs: dict[str, Any] = {
            "IndexName": keys.OPEN_CYCLE_INDEX,
            "KeyConditionExpression": Key("open_pk").eq(keys.open_cycle_partition(clinic_id)),
        }
        if status is not None:
            kwargs["FilterExpression"] = Attr("status").eq(status.value)
        return _count(self._table, **kwargs)

    def for_patient(self, patient_id: str) -> list[RecallCycle]:
        return [from_item(RecallCycle, i) for i in _query_prefix(self._table, patient_id, "CYCLE#")]


class AttemptRepository:
    """R24: the communication log, which is also the send ledger (one row per patient, cycle, step, channel)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def claim(self, attempt: CommunicationAttempt) -> CommunicationAttempt | None:
        """Writes the row before anything is sent. Returns None if this call owns the send,
        or the row already there (this exact send was claimed before: do not send again)."""
        key = keys.attempt(attempt.patient_id, attempt.cycle_id, attempt.step, attempt.channel.value)
        try:
            with translated_errors("attempt", key[keys.SK]):
                self._table.put_item(Item=key | to_item(attempt), ConditionExpression=Attr(keys.PK).not_exists())
        except Conflict:
            existing = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
            return from_item(CommunicationAttempt, existing) if existing else None
        return None

    def record(self, attempt: CommunicationAttempt) -> None:
        key = keys.attempt(attempt.patient_id, attempt.cycle_id, attempt.step, attempt.channel.value)
        with translated_errors("attempt", key[keys.SK]):
            self._table.put_item(Item=key | to_item(attempt))

    def release(self, attempt: CommunicationAttempt) -> None:
        """Gives up a claim after a send that certainly did not happen (throttled), so a retry may send."""
        key = keys.attempt(attempt.patient_id, attempt.cycle_id, attempt.step, attempt.channel.value)
        self._table.delete_item(Key=key, ConditionExpression=Attr("outcome").eq("sending"))

    def for_patient(self, patient_id: str) -> list[CommunicationAttempt]:
        return [
            from_item(CommunicationAttempt, i) for i in _query_prefix(self._table, patient_id, keys.attempts_prefix())
        ]


class TaskRepository:
    def __init__(self, table: Any) -> None:
        self._table = table

    def create(self, task: StaffTask) -> bool:
        """False if a task with this id exists already (task ids are deterministic: retries create one)."""
        item = keys.task(task.task_id) | to_item(task)
        if task.status == TaskStatus.OPEN:
            item |= keys.queue_entry(task.clinic_id, task.role.value, task.due_at, task.task_id)
        try:
            with translated_errors("task", task.task_id):
                self._table.put_item(Item=item, ConditionExpression=Attr(keys.PK).not_exists())
        except Conflict:
            return False
        return True

    def get(self, task_id: str) -> StaffTask:
        item = self._table.get_item(Key=keys.task(task_id), ConsistentRead=True).get("Item")
        if item is None:
            raise NotFound("task", task_id)
        return from_item(StaffTask, item)

    def close(self, task_id: str, status: TaskStatus, at: datetime, result: str | None = None, reason: str | None = None) -> bool:
        values: dict[str, Any] = {":s": status.value, ":at": at.isoformat(), ":open": TaskStatus.OPEN.value}
        sets = ["#status = :s", "closed_at = :at"]
        if result:
            sets.append("#result = :r")
            values[":r"] = result
        if reason:
            sets.append("reason = :why")
            values[":why"] = reason
        try:
            with translated_errors("task", task_id):
                self._table.update_item(
                    Key=keys.task(task_id),
                    UpdateExpression="SET " + ", ".join(sets) + " REMOVE queue_pk, queue_sk",
                    ConditionExpression="#status = :open",
                    ExpressionAttributeNames={"#status": "status", **({"#result": "result"} if result else {})},
                    ExpressionAttributeValues=values,
                )
        except Conflict:
            return False
        return True

    def open_queue(self, clinic_id: str, role: str, limit: int = 100) -> list[StaffTask]:
        """The role's work queue at one clinic, oldest due first."""
        page = self._table.query(
            IndexName=keys.QUEUE_INDEX,
            KeyConditionExpression=Key("queue_pk").eq(keys.queue_partition(clinic_id, role)),
            Limit=limit,
        )
        return [from_item(StaffTask, i) for i in page.get("Items", [])]


class AppointmentRepository:
    def __init__(self, table: Any) -> None:
        self._table = table

    def save(self, appointment: Appointment) -> None:
        with translated_errors("appointment", appointment.appointment_id):
            self._table.put_item(Item=keys.appointment(appointment.patient_id, appointment.appointment_id) | to_item(appointment))

    def for_patient(self, patient_id: str) -> list[Appointment]:
        return [from_item(Appointment, i) for i in _query_prefix(self._table, patient_id, keys.appointments_prefix())]


def _count(table: Any, **query: Any) -> int:
    total, start = 0, None
    while True:
        page = table.query(Select="COUNT", **query, **({"ExclusiveStartKey": start} if start else {}))
        total += page["Count"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return total


def _query_prefix(table: Any, patient_id: str, prefix: str) -> list[dict]:
    items, start = [], None
    while True:
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key(keys.PK).eq(keys.patient_partition(patient_id))
            & Key(keys.SK).begins_with(prefix),
            "ConsistentRead": True,
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = table.query(**kwargs)
        items += page.get("Items", [])
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def _expand_open(values: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB has no list parameter for IN: spread the open statuses over :o0..:o2."""
    statuses = values.pop(":open")
    return values | {f":o{i}": s for i, s in enumerate(statuses)}


def _json_default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return json.loads(value.model_dump_json(exclude_none=True))
    raise TypeError(type(value))


class NoticeRepository:
    def __init__(self, table: Any) -> None:
        self._table = table

    def claim(self, key: dict[str, str]) -> bool:
        """True the first time a notice is claimed, False ever after."""
        try:
            with translated_errors("notice", key[keys.SK]):
                self._table.put_item(Item=dict(key), ConditionExpression=Attr(keys.PK).not_exists())
        except Conflict:
            return False
        return True


class TenantTables:
    """Every repository of one tenant, over the tenant's table."""

    def __init__(self, table: Any, config: TenantConfig) -> None:
        self.table = table
        self.patients = PatientRepository(table, config)
        self.cycles = RecallCycleRepository(table)
        self.attempts = AttemptRepository(table)
        self.tasks = TaskRepository(table)
        self.appointments = AppointmentRepository(table)
        self.notices = NoticeRepository(table)
        from revisit.adapters.dynamo_booking import BookingRepository  # it builds on this module's helpers

        self.bookings = BookingRepository(table)
