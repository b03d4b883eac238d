"""Appointments on the provider's schedule, without double booking: a booking writes the appointment, one
lock item per 15-minute cell it covers and (when the caller sent one) its Idempotency-Key record in one
TransactWriteItems, each on condition that it does not exist yet. Of two bookings that overlap, however
they interleave, exactly one commits.

The same transaction marks the cells on the provider's booked-cells item for that local day (one item per
provider and day, attribute c<index>), and a move or cancellation unmarks them: an availability search reads
providers x days items in one BatchGetItem instead of a Query per provider over every appointment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from revisit.adapters import dynamo_keys as keys
from revisit.adapters.dynamo.items import from_item, query_prefix, stored_datetime, to_item, translated_errors
from revisit.domain.availability import GRID, Busy, cell_at, day_cells, grid_cells
from revisit.errors import Conflict, IdempotencyKeyReused, NotFound, SlotTaken, TransientError
from revisit.models.entities import (
    Appointment,
    AppointmentStatus,
    ConfirmationStatus,
    IdempotencyRecord,
    Payment,
)

IDEMPOTENCY_HOURS = 24


class AppointmentRepository:
    def __init__(self, table: Any, zones: Mapping[str, ZoneInfo] | None = None) -> None:
        self._table = table
        self._client = table.meta.client
        self._zones = zones or {}
        """Each provider's local time zone (its clinic's): a booked-cells item is one of its local days."""

    def _zone(self, provider_id: str) -> ZoneInfo:
        return self._zones.get(provider_id, ZoneInfo("UTC"))

    def _mark(self, provider_id: str, add: Iterable[datetime], remove: Iterable[datetime],
              appointment_id: str) -> list[dict[str, Any]]:
        """The Update per local day that sets the added cells to the appointment and removes the others."""
        zone = self._zone(provider_id)
        added, removed = day_cells(add, zone), day_cells(remove, zone)
        writes = []
        for day in sorted(set(added) | set(removed)):
            names = {f"#{keys.BOOKED_CELL_PREFIX}{i}": f"{keys.BOOKED_CELL_PREFIX}{i}"
                     for i in added.get(day, set()) | removed.get(day, set())}
            parts = []
            if added.get(day):
                parts.append("SET " + ", ".join(f"#{keys.BOOKED_CELL_PREFIX}{i} = :a" for i in sorted(added[day])))
            if removed.get(day):
                parts.append("REMOVE " + ", ".join(f"#{keys.BOOKED_CELL_PREFIX}{i}" for i in sorted(removed[day])))
            update = {"TableName": self._table.name, "Key": keys.booked_day(provider_id, day),
                      "UpdateExpression": " ".join(parts), "ExpressionAttributeNames": names}
            if added.get(day):
                update["ExpressionAttributeValues"] = {":a": appointment_id}
            writes.append({"Update": update})
        return writes

    def book(self, appointment: Appointment, idempotency: tuple[str, str, str] | None = None) -> None:
        """`idempotency` = (integrator id, key, request hash). Raises SlotTaken or IdempotencyKeyReused."""
        assert appointment.provider_id and appointment.ends_at
        item = (keys.appointment(appointment.patient_id, appointment.appointment_id) | to_item(appointment)
                | keys.schedule_entry(appointment.provider_id, appointment.starts_at, appointment.appointment_id))
        writes = [_put(self._table.name, item)]
        cells = grid_cells(appointment.starts_at, appointment.ends_at)
        writes += [_put(self._table.name, keys.slot_lock(appointment.provider_id, cell)
                        | {"appointment_id": appointment.appointment_id, "patient_id": appointment.patient_id})
                   for cell in cells]
        writes += self._mark(appointment.provider_id, cells, (), appointment.appointment_id)
        if idempotency:
            integrator_id, key, request_hash = idempotency
            expires = appointment.created_at + timedelta(hours=IDEMPOTENCY_HOURS)
            writes.append(_put(self._table.name, keys.idempotency(integrator_id, key) | {
                "request_hash": request_hash, "patient_id": appointment.patient_id,
                "appointment_id": appointment.appointment_id, keys.TTL_ATTRIBUTE: int(expires.timestamp())}))
        try:
            self._client.transact_write_items(TransactItems=writes)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if idempotency and reasons and reasons[-1] == "ConditionalCheckFailed":
                record = self.idempotency_record(idempotency[0], idempotency[1])
                if record is not None:
                    raise IdempotencyKeyReused(record) from None
            if "ConditionalCheckFailed" in reasons:
                raise SlotTaken(f"provider {appointment.provider_id} is not free at {appointment.starts_at}") from None
            raise TransientError(f"booking {appointment.appointment_id}: {reasons}") from None

    def save(self, appointment: Appointment) -> None:
        """An appointment recorded as it is (imported, or booked outside the schedule grid): no slot locks."""
        with translated_errors("appointment", appointment.appointment_id):
            self._table.put_item(Item=keys.appointment(appointment.patient_id, appointment.appointment_id)
                                 | to_item(appointment))

    def for_patient(self, patient_id: str) -> list[Appointment]:
        return [from_item(Appointment, i) for i in query_prefix(self._table, patient_id, keys.appointments_prefix())]

    def idempotency_record(self, integrator_id: str, key: str) -> IdempotencyRecord | None:
        item = self._table.get_item(Key=keys.idempotency(integrator_id, key), ConsistentRead=True).get("Item")
        if item is None:
            return None
        return IdempotencyRecord(request_hash=item["request_hash"], patient_id=item["patient_id"],
                                 appointment_id=item["appointment_id"])

    def get(self, patient_id: str, appointment_id: str) -> Appointment:
        item = self._table.get_item(Key=keys.appointment(patient_id, appointment_id), ConsistentRead=True).get("Item")
        if item is None:
            raise NotFound("appointment", appointment_id)
        return from_item(Appointment, item)

    def busy(self, provider_ids: list[str], first: datetime, last: datetime) -> tuple[list[Busy], int]:
        """Booked time of these providers in [first, last), cell by cell, from their booked-cells items of the
        local days it spans (one BatchGetItem per 100 of them); and the items read."""
        wanted = []
        for provider_id in dict.fromkeys(provider_ids):
            zone = self._zone(provider_id)
            day, end = first.astimezone(zone).date(), (last - timedelta(microseconds=1)).astimezone(zone).date()
            while day <= end:
                wanted.append(keys.booked_day(provider_id, day))
                day += timedelta(days=1)
        busy = []
        for item in self._batch_get(wanted):
            provider_id = item[keys.PK].removeprefix("BOOKED#")
            day, zone = date.fromisoformat(item[keys.SK]), self._zone(provider_id)
            for name in item:
                if name.startswith(keys.BOOKED_CELL_PREFIX) and name[1:].isdigit():
                    cell = cell_at(day, int(name[1:]), zone)
                    if first <= cell < last:
                        busy.append(Busy(provider_id, cell, cell + GRID))
        return busy, len(wanted)

    def _batch_get(self, wanted: list[dict[str, str]]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for batch in range(0, len(wanted), 100):
            # The resource's client takes and gives plain values (boto3 transforms them).
            request = {self._table.name: {"Keys": wanted[batch:batch + 100], "ConsistentRead": True}}
            while request:
                with translated_errors("booked cells", "batch"):
                    answer = self._client.batch_get_item(RequestItems=request)
                items += answer["Responses"].get(self._table.name, [])
                request = answer.get("UnprocessedKeys") or {}
        return items

    def move(self, appointment: Appointment, moved: Appointment) -> None:
        """Reschedule in one transaction: the new cells locked (each must be free, except cells the
        appointment holds already), the old ones freed, the appointment updated if it is still booked at
        its old time. Raises SlotTaken, or Conflict if it changed meanwhile."""
        assert appointment.provider_id and appointment.ends_at and moved.provider_id and moved.ends_at
        old_cells = {(appointment.provider_id, c) for c in grid_cells(appointment.starts_at, appointment.ends_at)}
        new_cells = {(moved.provider_id, c) for c in grid_cells(moved.starts_at, moved.ends_at)}
        writes: list[dict[str, Any]] = [{"Update": {
            "TableName": self._table.name, "Key": keys.appointment(appointment.patient_id, appointment.appointment_id),
            "UpdateExpression": "SET starts_at = :s, ends_at = :e, provider_id = :p, updated_at = :u, "
                                "schedule_pk = :spk, schedule_sk = :ssk, confirmation = :unconfirmed "
                                "REMOVE confirmed_at, confirmation_at",
            "ConditionExpression": "#status = :booked AND starts_at = :old",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":s": stored_datetime(moved.starts_at), ":e": stored_datetime(moved.ends_at), ":p": moved.provider_id,
                ":u": stored_datetime(moved.updated_at) if moved.updated_at else None,
                ":spk": keys.schedule_partition(moved.provider_id),
                ":ssk": keys.schedule_entry(moved.provider_id, moved.starts_at, moved.appointment_id)["schedule_sk"],
                ":booked": AppointmentStatus.BOOKED.value, ":old": stored_datetime(appointment.starts_at),
                ":unconfirmed": ConfirmationStatus.UNCONFIRMED.value}}}]
        writes += [_put(self._table.name, keys.slot_lock(provider, cell)
                        | {"appointment_id": moved.appointment_id, "patient_id": moved.patient_id})
                   for provider, cell in sorted(new_cells - old_cells)]
        writes += [{"Delete": {"TableName": self._table.name, "Key": keys.slot_lock(provider, cell)}}
                   for provider, cell in sorted(old_cells - new_cells)]
        for provider in sorted({p for p, _ in old_cells | new_cells}):
            writes += self._mark(provider, [c for p, c in new_cells - old_cells if p == provider],
                                 [c for p, c in old_cells - new_cells if p == provider], moved.appointment_id)
        try:
            self._client.transact_write_items(TransactItems=writes)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise Conflict(f"appointment {appointment.appointment_id} changed meanwhile") from None
            if "ConditionalCheckFailed" in reasons:
                raise SlotTaken(f"provider {moved.provider_id} is not free at {moved.starts_at}") from None
            raise TransientError(f"moving {appointment.appointment_id}: {reasons}") from None

    def payments_for(self, patient_id: str) -> dict[str, list[Payment]]:
        found: dict[str, list[Payment]] = {}
        for item in query_prefix(self._table, patient_id, keys.payments_prefix()):
            payment = from_item(Payment, item)
            found.setdefault(payment.appointment_id, []).append(payment)
        return found

    def record_payment(self, payment: Payment) -> Payment:
        """Once per payment id: a retry with the same payment returns it; another payment under the same id
        is a Conflict."""
        key = keys.payment(payment.patient_id, payment.appointment_id, payment.payment_id)
        try:
            with translated_errors("payment", payment.payment_id):
                self._table.put_item(Item=key | to_item(payment), ConditionExpression="attribute_not_exists(pk)")
        except Conflict:
            existing = from_item(Payment, self._table.get_item(Key=key, ConsistentRead=True)["Item"])
            if existing.model_dump(exclude={"at"}) != payment.model_dump(exclude={"at"}):
                raise Conflict(f"payment {payment.payment_id} was recorded with other details") from None
            return existing
        return payment

    def set_confirmation(self, appointment: Appointment, status: ConfirmationStatus, at: datetime) -> bool:
        """X7, on condition that the appointment is still booked at the same time with the confirmation status
        it was read with: False if it changed meanwhile (the caller reads it again)."""
        update = "SET confirmation = :c, confirmation_at = :at"
        if status == ConfirmationStatus.CONFIRMED:
            update += ", confirmed_at = :at"
        try:
            with translated_errors("appointment", appointment.appointment_id):
                self._table.update_item(
                    Key=keys.appointment(appointment.patient_id, appointment.appointment_id),
                    UpdateExpression=update,
                    ConditionExpression="#status = :booked AND starts_at = :start AND "
                                        "(confirmation = :was OR (attribute_not_exists(confirmation) AND :was = :new))",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues={
                        ":c": status.value, ":at": stored_datetime(at), ":booked": AppointmentStatus.BOOKED.value,
                        ":start": stored_datetime(appointment.starts_at), ":was": appointment.confirmation.value,
                        ":new": ConfirmationStatus.UNCONFIRMED.value})
        except Conflict:
            return False
        return True

    def on_day(self, provider_ids: list[str], first: datetime, last: datetime) -> list[Appointment]:
        """The booked appointments of these providers starting in [first, last): the schedule index finds
        them, one consistent batch read fetches them whole."""
        found: list[dict[str, Any]] = []
        for provider_id in provider_ids:
            kwargs: dict[str, Any] = {
                "IndexName": keys.SCHEDULE_INDEX,
                "KeyConditionExpression": Key("schedule_pk").eq(keys.schedule_partition(provider_id))
                & Key("schedule_sk").between(keys.schedule_bound(first), keys.schedule_bound(last)),
                "ProjectionExpression": "#pk, #sk, starts_at", "ExpressionAttributeNames": {"#pk": keys.PK, "#sk": keys.SK}}
            while True:
                page = self._table.query(**kwargs)
                found += [{keys.PK: i[keys.PK], keys.SK: i[keys.SK]} for i in page.get("Items", [])
                          if first <= datetime.fromisoformat(i["starts_at"]) < last]
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        appointments = [from_item(Appointment, i) for i in self._batch_get(found)]
        return sorted((a for a in appointments if a.status == AppointmentStatus.BOOKED), key=lambda a: a.starts_at)

    def change_status(self, appointment: Appointment, status: AppointmentStatus, at: datetime,
                      reason: str | None = None) -> Appointment:
        """Cancelled: the appointment leaves the schedule and its cells are freed, in one transaction.
        Completed or no-show: only the status. Only a booked appointment changes (else Conflict)."""
        names = {"#status": "status"}
        values: dict[str, Any] = {":status": status.value, ":at": at.isoformat(), ":booked": AppointmentStatus.BOOKED.value}
        update = "SET #status = :status, updated_at = :at"
        if reason:
            update += ", cancel_reason = :reason"
            values[":reason"] = reason
        if status == AppointmentStatus.CANCELLED:
            update += " REMOVE schedule_pk, schedule_sk"
        writes = [{"Update": {"TableName": self._table.name,
                              "Key": keys.appointment(appointment.patient_id, appointment.appointment_id),
                              "UpdateExpression": update, "ConditionExpression": "#status = :booked",
                              "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}}]
        if status == AppointmentStatus.CANCELLED and appointment.provider_id and appointment.ends_at:
            cells = grid_cells(appointment.starts_at, appointment.ends_at)
            writes += [{"Delete": {"TableName": self._table.name, "Key": keys.slot_lock(appointment.provider_id, cell)}}
                       for cell in cells]
            writes += self._mark(appointment.provider_id, (), cells, appointment.appointment_id)
        try:
            with translated_errors("appointment", appointment.appointment_id):
                self._client.transact_write_items(TransactItems=writes)
        except Conflict:
            raise Conflict(f"appointment {appointment.appointment_id} is {self.get(appointment.patient_id, appointment.appointment_id).status.value}, not booked") from None
        return appointment.model_copy(update={"status": status, "updated_at": at, "cancel_reason": reason})


def _put(table_name: str, item: dict[str, Any]) -> dict[str, Any]:
    return {"Put": {"TableName": table_name, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}
