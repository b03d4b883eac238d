"""X4: a practice-management export (CSV or JSON) read into the booking API's patient bodies. Pure: every
row is checked first (the API's own models, the tenant's clinics and recall types) and each problem is
reported with its line and field; the CLI writes nothing unless every row is good.

CSV columns: patient_number, clinic_id, first_name, last_name, date_of_birth, language, phone, email,
sms_consent, email_consent, last_visit, recalls. `recalls` is `type:last_done[:months]` separated by `;`
(`prophy:2026-05-20;perio:2026-08-01:3`). JSON: a list of objects with the same keys, `recalls` a list of
{recall_type, last_done, interval_months}. The patient's id is `<clinic>-<patient number>`, so importing the
same export again updates the same patients."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from revisit.api.models import NewPatient
from revisit.domain.recall_dates import history_problem
from revisit.models.tenant import TenantConfig

COLUMNS = ("patient_number", "clinic_id", "first_name", "last_name", "date_of_birth", "language", "phone", "email",
           "sms_consent", "email_consent", "last_visit", "recalls")
TRUE, FALSE = {"true", "yes", "y", "1", "si", "sí", "да"}, {"false", "no", "n", "0", "", "нет", "не"}


@dataclass(frozen=True)
class Problem:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


@dataclass(frozen=True)
class ImportRow:
    line: int
    body: dict[str, Any]
    """A valid POST /patients body (JSON-ready)."""


def read_patient_file(path: Path, config: TenantConfig, today: date) -> tuple[list[ImportRow], list[Problem]]:
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        try:
            records = json.loads(text)
        except json.JSONDecodeError as exc:
            return [], [Problem(exc.lineno, "file", f"not JSON: {exc.msg}")]
        if not isinstance(records, list):
            return [], [Problem(1, "file", "a JSON list of patients is expected")]
        raw = [(n, record) for n, record in enumerate(records, start=1)]  # 'line' is the record's position
    else:
        reader = csv.DictReader(io.StringIO(text))
        missing = [c for c in ("patient_number", "clinic_id", "first_name", "last_name", "date_of_birth", "language")
                   if c not in (reader.fieldnames or [])]
        if missing:
            return [], [Problem(1, "header", f"missing columns: {', '.join(missing)}")]
        raw = [(reader.line_num, dict(row)) for row in reader]
    rows, problems, seen = [], [], {}
    for line, record in raw:
        row = _row(line, record, config, today)
        if isinstance(row, Problem):
            problems.append(row)
            continue
        patient_id = row.body["patient_id"]
        if patient_id in seen:
            problems.append(Problem(line, "patient_number", f"also on line {seen[patient_id]}"))
            continue
        seen[patient_id] = line
        rows.append(row)
    return rows, problems


def _row(line: int, record: Any, config: TenantConfig, today: date) -> ImportRow | Problem:
    if not isinstance(record, dict):
        return Problem(line, "record", "an object is expected")
    number = str(record.get("patient_number") or "").strip()
    clinic_id = str(record.get("clinic_id") or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{0,28}", number):
        return Problem(line, "patient_number", "letters, digits and dashes, at most 29")
    if clinic_id not in {c.clinic_id for c in config.clinics}:
        return Problem(line, "clinic_id", f"unknown clinic {clinic_id!r}")
    try:
        recalls = _recalls(record.get("recalls"))
        body = {key: value for key, value in {
            "patient_id": f"{clinic_id}-{number}".lower(), "clinic_id": clinic_id,
            "first_name": record.get("first_name"), "last_name": record.get("last_name"),
            "date_of_birth": record.get("date_of_birth"), "language": record.get("language"),
            "phone": record.get("phone") or None, "email": record.get("email") or None,
            "sms_consent": _flag(record.get("sms_consent"), "sms_consent"),
            "email_consent": _flag(record.get("email_consent"), "email_consent"),
            "last_visit": record.get("last_visit") or None, "recalls": recalls}.items() if value is not None}
        patient = NewPatient.model_validate(body)
    except _BadField as exc:
        return Problem(line, exc.field, exc.message)
    except ValidationError as exc:
        error = exc.errors()[0]
        return Problem(line, ".".join(str(p) for p in error["loc"]) or "record", error["msg"])
    problem = history_problem(patient.model_dump(), {rt.recall_type for rt in config.recall_types}, today)
    if problem is not None:
        return Problem(line, *problem)
    return ImportRow(line, patient.model_dump(mode="json", exclude_none=True))


class _BadField(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def _flag(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in TRUE | FALSE:
        return text in TRUE
    raise _BadField(field, f"{value!r} is not yes or no")


def _recalls(value: Any) -> list[dict[str, Any]]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    items = []
    for n, part in enumerate(p.strip() for p in str(value).split(";") if p.strip()):
        pieces = part.split(":")
        if len(pieces) not in (2, 3):
            raise _BadField(f"recalls.{n}", f"{part!r}: type:last_done[:months] is expected")
        item: dict[str, Any] = {"recall_type": pieces[0], "last_done": pieces[1]}
        if len(pieces) == 3:
            item["interval_months"] = pieces[2]
        items.append(item)
    return items
