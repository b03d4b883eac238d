"""Recall cycles: one per patient and due date, with the sparse open-cycle index (the daily report's rows)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from revisit.adapters import dynamo_keys as keys
from revisit.adapters.dynamo.items import (
    count,
    from_item,
    query_prefix,
    to_item,
    translated_errors,
)
from revisit.errors import Conflict, NotFound
from revisit.models.common import Channel
from revisit.models.entities import CycleStatus, EligibilityResult, RecallCycle, RecallStatus

OPEN_STATUSES = [s.value for s in CycleStatus if s.is_open]



PATIENT_CHANNELS = {c.value for c in Channel if c.reaches_patient}


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
                    UpdateExpression=f"SET recall_cycle_id = :c, recall_status = :s, {keys.BUMP_VERSION} "
                    "REMOVE due_pk, due_sk",
                    ConditionExpression="attribute_exists(pk) AND "
                    "(attribute_not_exists(recall_cycle_id) OR recall_cycle_id <= :c)",
                    ExpressionAttributeValues={":c": cycle.cycle_id, ":s": RecallStatus.PENDING.value, ":zero": 0,
                                               ":one": 1},
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
            # Messages that reached the patient are attempts; staff work is counted on its own.
            counter = "attempts" if channel in PATIENT_CHANNELS else "staff_tasks"
            sets += ["last_contact_at = :contacted", "last_channel = :channel",
                     f"{counter} = if_not_exists({counter}, :zero) + :one"]
            values |= {":contacted": contacted_at.isoformat(), ":channel": channel, ":one": 1, ":zero": 0}
        with translated_errors("recall cycle", cycle.execution_name):
            self._table.update_item(
                Key=keys.cycle(cycle.patient_id, cycle.cycle_id),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression="step_index = :expected AND #status IN (:o0, :o1, :o2)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=expand_open(values),
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
                    ExpressionAttributeValues=expand_open(
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
                    UpdateExpression=f"SET recall_status = :rs, {keys.BUMP_VERSION}",
                    ConditionExpression="recall_cycle_id = :c",
                    ExpressionAttributeValues={":rs": status.recall_status.value, ":c": cycle.cycle_id, ":zero": 0,
                                               ":one": 1},
                )
        except Conflict:
            pass

    def record_eligibility(self, cycle: RecallCycle, result: EligibilityResult) -> None:
        """R9's answer for the recall visit, kept on the cycle (never touches its status)."""
        with translated_errors("recall cycle", cycle.execution_name):
            self._table.update_item(
                Key=keys.cycle(cycle.patient_id, cycle.cycle_id),
                UpdateExpression="SET eligibility = :e",
                ExpressionAttributeValues={":e": to_item(result)},
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
        return count(self._table, **kwargs)

    def for_patient(self, patient_id: str) -> list[RecallCycle]:
        return [from_item(RecallCycle, i) for i in query_prefix(self._table, patient_id, "CYCLE#")]


def expand_open(values: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB has no list parameter for IN: spread the open statuses over :o0..:o2."""
    statuses = values.pop(":open")
    return values | {f":o{i}": s for i, s in enumerate(statuses)}
