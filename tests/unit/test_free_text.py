"""Names and free text reach SMS, email subjects, reports and shared screens: no control or invisible
characters get in, and no report cell runs as a spreadsheet formula."""

import csv
import io
from datetime import date

import pytest
from pydantic import ValidationError
from revisit.models.steps.recall import PrepareRecallRequest
from revisit.models.steps.sweep import RunDateRequest
from revisit.services import recall, sweep

from tests.conftest import make_patient
from tests.fakes import fake_context


@pytest.mark.parametrize("name", ["Emma\x00", "Em\nma", "\u202eammE", "Em\u200bma", "Emma\u2028", " Emma"])
def test_a_name_with_control_or_invisible_characters_is_refused_naming_the_field(name):
    with pytest.raises(ValidationError) as refused:
        make_patient(first_name=name)
    assert refused.value.errors()[0]["loc"] == ("first_name",)


@pytest.mark.parametrize("name", ["José María", "Иван", "O'Brien-Smith", "Zoë"])
def test_real_names_in_every_language_pass(name):
    assert make_patient(first_name=name).first_name == name


def test_a_name_that_looks_like_a_formula_is_a_plain_cell_in_the_csv_report(tenant):
    ctx = fake_context(tenant)
    ctx.tables.patients.save(make_patient(first_name="=HYPERLINK(\"http://x.example\")", last_name="@SUM(A1)"))
    recall.prepare_recall(PrepareRecallRequest(execution_name="r", patient_id="p-000001", clinic_id="boston",
                                               recall_due_date=date(2026, 11, 21)), ctx)
    sweep.write_recall_report(RunDateRequest(execution_name="s", run_date=date(2026, 11, 24)), ctx)
    body = next(b for k, (b, _) in ctx.reports.objects.items() if k.endswith(".csv")).decode()
    [row] = list(csv.DictReader(io.StringIO(body)))
    assert row["patient_name"].startswith("'=HYPERLINK")
    assert sweep.spreadsheet_safe("-1+2") == "'-1+2" and sweep.spreadsheet_safe(3) == 3
