"""Patients: the profile, and the sparse due (R1) and phone indexes it keeps."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from revisit.adapters import dynamo_keys as keys
from revisit.adapters.dynamo.items import (
    count,
    decode_token,
    encode_token,
    from_item,
    plain,
    to_item,
    translated_errors,
)
from revisit.domain.reactivation import inactive_from
from revisit.domain.recall_dates import can_start_cycle, cycle_date, next_due_recall
from revisit.errors import Conflict, InvalidRequest, NotFound
from revisit.models.entities import Patient, PatientStatus
from revisit.models.tenant import TenantConfig

NEVER_VISITED = date(2000, 1, 1)
"""The inactive key of a patient handed to reactivation who has no visit on record: inactive all along."""


class PatientRepository:
    def __init__(self, table: Any, config: TenantConfig) -> None:
        self._table = table
        self._recall_types = {rt.recall_type: rt for rt in config.recall_types}
        self._combine_days = config.sweep.lead_days
        self._inactive_after = config.reactivation.inactive_after_months

    def due_attributes(self, patient: Patient) -> dict[str, Any]:
        """The sparse due-index entry: present only while the patient's next recall has no cycle yet,
        and only for patients who can be recalled (active, not opted out, nothing booked)."""
        due = next_due_recall(patient.recalls, self._recall_types, self._combine_days)
        if due is None:
            return {}
        opens = cycle_date(patient, due.due_date, self._combine_days)
        attributes: dict[str, Any] = {
            "recall_due_date": opens.isoformat(),
            "recall_types_due": list(due.recall_types),
        }
        if can_start_cycle(patient, opens):
            attributes |= keys.due_entry(patient.clinic_id, opens, patient.patient_id)
        return attributes

    def inactive_attributes(self, patient: Patient) -> dict[str, Any]:
        """A1: the sparse inactive-index entry, for a patient with nothing booked who is not opted out: the
        day they become inactive (the recall loop's hand-over makes it their last visit: inactive now)."""
        if patient.opted_out or patient.next_appointment_at is not None:
            return {}
        since = (patient.last_visit or NEVER_VISITED) if patient.status == PatientStatus.INACTIVE else \
            inactive_from(patient.last_visit, self._inactive_after)
        return keys.inactive_entry(patient.clinic_id, since, patient.patient_id) if since else {}

    def item(self, patient: Patient) -> dict[str, Any]:
        phone = keys.phone_entry(patient.phone, patient.patient_id) if patient.phone else {}
        return (keys.patient(patient.patient_id) | to_item(patient) | self.due_attributes(patient) | phone
                | self.inactive_attributes(patient))

    def inactive(self, clinic_id: str, on: date, limit: int = 500, after: str | None = None
                 ) -> tuple[list[dict[str, Any]], str | None]:
        """A1, A2: a page of the clinic's patients inactive on `on` (index entries: id, clinic, treatment,
        birth date, last visit), longest inactive first; and the next page's token."""
        kwargs: dict[str, Any] = {
            "IndexName": keys.INACTIVE_INDEX, "Limit": limit,
            "KeyConditionExpression": Key("inactive_pk").eq(keys.inactive_partition(clinic_id))
            & Key("inactive_sk").lt((on + timedelta(days=1)).isoformat())}
        if after:
            try:
                start = decode_token(after)
            except ValueError:  # not a token of ours (a base64 or JSON error)
                raise InvalidRequest("after", "not a page token this list gave") from None
            if not isinstance(start, dict) or start.get("inactive_pk") != keys.inactive_partition(clinic_id):
                raise InvalidRequest("after", "not a page token of this clinic's list")
            kwargs["ExclusiveStartKey"] = start
        page = self._table.query(**kwargs)
        return [{k: plain(v) for k, v in item.items()} for item in page.get("Items", [])], \
            encode_token(page.get("LastEvaluatedKey"))

    def count_inactive(self, clinic_id: str, on: date) -> int:
        return count(self._table, IndexName=keys.INACTIVE_INDEX,
                     KeyConditionExpression=Key("inactive_pk").eq(keys.inactive_partition(clinic_id))
                     & Key("inactive_sk").lt((on + timedelta(days=1)).isoformat()))

    def by_phone(self, phone: str) -> list[Patient]:
        """Everyone with this mobile number (a family may share one), read from the phone index."""
        page = self._table.query(IndexName=keys.PHONE_INDEX,
                                 KeyConditionExpression=Key("phone_pk").eq(keys.phone_partition(phone)))
        return [self.get(item["patient_id"]) for item in page.get("Items", [])]

    def save(self, patient: Patient) -> None:
        """Writes the record as it is, whatever is stored (seeding, imports); services use `update`."""
        with translated_errors("patient", patient.patient_id):
            self._table.put_item(Item=self.item(patient))

    def update(self, patient: Patient) -> Patient:
        """Writes a changed record read at `patient.version`; Conflict if anything wrote it since."""
        stored = patient.model_copy(update={"version": patient.version + 1})
        unchanged = Attr("version").eq(patient.version)
        if patient.version == 0:  # written before records had versions (or never changed since)
            unchanged = unchanged | (Attr(keys.PK).exists() & Attr("version").not_exists())
        with translated_errors("patient", patient.patient_id):
            self._table.put_item(Item=self.item(stored), ConditionExpression=unchanged)
        return stored

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
        update = f"SET opted_out = :o, {keys.BUMP_VERSION}" + (
            " REMOVE due_pk, due_sk, inactive_pk, inactive_sk" if opted_out else "")
        try:
            with translated_errors("patient", patient_id):
                self._table.update_item(
                    Key=keys.patient(patient_id),
                    UpdateExpression=update,
                    ExpressionAttributeValues={":o": opted_out, ":zero": 0, ":one": 1},
                    ConditionExpression=Attr(keys.PK).exists(),
                )
        except Conflict:
            raise NotFound("patient", patient_id) from None

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
        start = decode_token(page_token)
        if start:
            kwargs["ExclusiveStartKey"] = start
        with translated_errors("due index", clinic_id):
            page = self._table.query(**kwargs)
        entries = [plain(item) for item in page.get("Items", [])]
        return entries, encode_token(page.get("LastEvaluatedKey")), page.get("ScannedCount", len(entries))

    def count_due(self, clinic_id: str, horizon: date) -> int:
        return count(self._table, IndexName=keys.DUE_INDEX,
                      KeyConditionExpression=Key("due_pk").eq(keys.due_partition(clinic_id))
                      & Key("due_sk").lt(keys.due_sort_upper_bound(horizon)))
