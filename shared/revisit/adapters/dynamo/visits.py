"""Intake records, visits, claims and treatment plans (I1-I17).

Visits, claims and plans live in the patient's partition (a patient's billing is one Query); a claim's id
has a pointer so the billing office can move it by id; intake records live under the clinic and day of the
first booking, so the daily intake report reads one partition per clinic (no scan, no index)."""

from __future__ import annotations

from datetime import date
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from revisit.adapters import dynamo_keys as keys
from revisit.adapters.dynamo.items import from_item, query_prefix, to_item, translated_errors
from revisit.errors import Conflict, NotFound, TransientError
from revisit.models.entities import BilledVisit, Claim, IntakeRecord, TreatmentPlan, Visit


class VisitRepository:
    def __init__(self, table: Any) -> None:
        self._table = table

    def _create(self, item: dict[str, Any], kind: str, key: str) -> bool:
        try:
            with translated_errors(kind, key):
                self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except Conflict:
            return False
        return True

    # --- intake ----------------------------------------------------------------------------------------
    def start_intake(self, record: IntakeRecord) -> bool:
        return self._create(keys.intake(record.clinic_id, record.day, record.patient_id) | to_item(record),
                            "intake", record.patient_id)

    def intake(self, clinic_id: str, day: date, patient_id: str) -> IntakeRecord:
        item = self._table.get_item(Key=keys.intake(clinic_id, day, patient_id), ConsistentRead=True).get("Item")
        if item is None:
            raise NotFound("intake", patient_id)
        return from_item(IntakeRecord, item)

    def save_intake(self, record: IntakeRecord) -> None:
        with translated_errors("intake", record.patient_id):
            self._table.put_item(Item=keys.intake(record.clinic_id, record.day, record.patient_id) | to_item(record))

    def intakes_on(self, clinic_id: str, day: date) -> list[IntakeRecord]:
        return [from_item(IntakeRecord, i) for i in self._day_partition(keys.intakes_partition(clinic_id, day))]

    def _day_partition(self, partition: str) -> list[dict[str, Any]]:
        items, start = [], None
        while True:
            kwargs: dict[str, Any] = {"KeyConditionExpression": Key(keys.PK).eq(partition)}
            if start:
                kwargs["ExclusiveStartKey"] = start
            page = self._table.query(**kwargs)
            items += page.get("Items", [])
            start = page.get("LastEvaluatedKey")
            if not start:
                return items

    def record_billed(self, billed: BilledVisit) -> None:
        with translated_errors("visit", billed.appointment_id):
            self._table.put_item(Item=keys.billed_visit(billed.clinic_id, billed.day, billed.appointment_id)
                                 | to_item(billed))

    def billed_on(self, clinic_id: str, day: date) -> list[BilledVisit]:
        return [from_item(BilledVisit, i) for i in self._day_partition(keys.billed_partition(clinic_id, day))]

    # --- visits ----------------------------------------------------------------------------------------
    def record_visit(self, visit: Visit) -> Visit | None:
        if self._create(keys.visit(visit.patient_id, visit.appointment_id) | to_item(visit), "visit", visit.appointment_id):
            return None
        return self.visit(visit.patient_id, visit.appointment_id)

    def visit(self, patient_id: str, appointment_id: str) -> Visit:
        item = self._table.get_item(Key=keys.visit(patient_id, appointment_id), ConsistentRead=True).get("Item")
        if item is None:
            raise NotFound("visit", appointment_id)
        return from_item(Visit, item)

    def save_visit(self, visit: Visit) -> None:
        with translated_errors("visit", visit.appointment_id):
            self._table.put_item(Item=keys.visit(visit.patient_id, visit.appointment_id) | to_item(visit))

    def visits_for(self, patient_id: str) -> list[Visit]:
        return [from_item(Visit, i) for i in query_prefix(self._table, patient_id, keys.visits_prefix())]

    # --- claims ----------------------------------------------------------------------------------------
    def create_claim(self, claim: Claim) -> bool:
        writes = [
            {"Put": {"TableName": self._table.name, "Item": keys.claim(claim.patient_id, claim.claim_id) | to_item(claim),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"TableName": self._table.name, "Item": keys.claim_pointer(claim.claim_id) | {"patient_id": claim.patient_id},
                     "ConditionExpression": "attribute_not_exists(pk)"}},
        ]
        try:
            with translated_errors("claim", claim.claim_id):
                self._table.meta.client.transact_write_items(TransactItems=writes)
        except Conflict:
            return False
        return True

    def claim(self, claim_id: str) -> Claim:
        pointer = self._table.get_item(Key=keys.claim_pointer(claim_id), ConsistentRead=True).get("Item")
        item = pointer and self._table.get_item(Key=keys.claim(pointer["patient_id"], claim_id),
                                                ConsistentRead=True).get("Item")
        if not item:
            raise NotFound("claim", claim_id)
        return from_item(Claim, item)

    def change_claim(self, read: Claim, changed: Claim) -> bool:
        try:
            self._table.put_item(Item=keys.claim(changed.patient_id, changed.claim_id) | to_item(changed),
                                 ConditionExpression="version = :v", ExpressionAttributeValues={":v": read.version})
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "ConditionalCheckFailedException":
                return False
            raise TransientError(f"claim {read.claim_id}: {code}") from None
        return True

    def claims_for(self, patient_id: str) -> list[Claim]:
        return [from_item(Claim, i) for i in query_prefix(self._table, patient_id, keys.claims_prefix())]

    # --- treatment plans -------------------------------------------------------------------------------
    def create_plan(self, plan: TreatmentPlan) -> bool:
        return self._create(keys.plan(plan.patient_id, plan.plan_id) | to_item(plan), "plan", plan.plan_id)

    def plans_for(self, patient_id: str) -> list[TreatmentPlan]:
        return [from_item(TreatmentPlan, i) for i in query_prefix(self._table, patient_id, keys.plans_prefix())]
