"""Intake and visit close-out end to end (I1-I17): the booking API's routes, the AppointmentBooked event
delivered by the rule on the tenant's bus to start_intake's queue, the intake, visit and daily_reports state
machines from their ASL files, and the real handlers, on moto."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from revisit.models.entities import InsurancePolicy, RecallItem
from revisit.offline.driver import Driver
from revisit.offline.stack import ACCOUNT, REGION, OfflineStack

from tests.api.conftest import Api
from tests.conftest import DEMO_TENANT, START, make_patient

POLICY = InsurancePolicy(payer="Delta Dental", member_id="DD100", plan="PPO", valid_from=date(2026, 1, 1),
                         category_percent={"diagnostic": 100, "preventive": 100, "basic": 80, "periodontics": 50,
                                           "major": 50},
                         deductible=Decimal("50"), annual_maximum=Decimal("1500"))


def new_patient(patient_id, **overrides):
    return make_patient(patient_id, **{"last_visit": None, "recalls": [], "insurance": [POLICY], **overrides})


class Clinic(Api):
    def __init__(self, stack):
        super().__init__(stack)
        self.driver = Driver(stack)
        self.sfn = stack.client("stepfunctions")

    def book(self, patient, on=date(2026, 11, 25), kind="new-patient"):
        slots = self.call("GET", f"/clinics/boston/availability?appointment_type={kind}&from={on}&to={on}").json()
        slot = slots["slots"][0]
        answer = self.call("POST", "/appointments", {"patient_id": patient, "clinic_id": "boston",
                                                     "appointment_type": kind, "provider_id": slot["provider_id"],
                                                     "starts_at": slot["starts_at"]})
        assert answer.status == 201, answer.body
        self.driver.settle()
        return answer.json()

    def execution(self, machine, name):
        arn = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:revisit-demo-{machine}:{name}"
        return self.sfn.describe_execution(executionArn=arn)

    def executions(self, machine):
        arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:revisit-demo-{machine}"
        return self.sfn.list_executions(stateMachineArn=arn)["executions"]

    def path(self, machine, name):
        arn = self.execution(machine, name)["executionArn"]
        events = self.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]

    def tasks(self, role):
        return self.call("GET", f"/clinics/boston/tasks?role={role}").json()

    def close(self, patient, appointment_id, body):
        answer = self.call("POST", f"/patients/{patient}/appointments/{appointment_id}/visit", body)
        self.driver.settle()
        return answer


@pytest.fixture
def clinic():
    with OfflineStack(DEMO_TENANT, START) as stack:
        yield Clinic(stack)


def test_a_new_patients_first_booking_runs_intake_once(clinic):
    """I1-I8, I16: the booking's event starts intake; the checklist, the pre-visit task, Follow-up with its
    history, the coverage verified; the notices are the appointment's own; a second booking starts nothing."""
    clinic.ctx.tables.patients.save(new_patient("p-new1"))
    booked = clinic.book("p-new1")
    execution = clinic.execution("intake", "intake-p-new1")
    assert execution["status"] == "SUCCEEDED"
    assert clinic.path("intake", "intake-p-new1") == ["OnboardPatient", "HasInsurance", "VerifyCoverage",
                                                      "CoverageAnswer", "Covered"]
    assert "Emma" not in json.dumps(execution, default=str)  # ids and counts only
    onboarding = [t for t in clinic.tasks("office_admin") if t["kind"] == "onboarding"]
    assert [t["patient_id"] for t in onboarding] == ["p-new1"]
    assert "forms, consent, insurance_card" in onboarding[0]["title"] and "missing" not in onboarding[0]["title"]
    pre_visit = [t for t in clinic.tasks("hygienist") if t["kind"] == "pre_visit"]
    assert [t["patient_id"] for t in pre_visit] == ["p-new1"]
    patient = clinic.ctx.tables.patients.get("p-new1")
    assert patient.status == "Follow-up"
    assert [(c.before, c.after) for c in patient.status_history] == [("Active", "Follow-up")]
    assert patient.latest_eligibility.status == "active"
    record = clinic.call("GET", "/clinics/boston/intake?date=2026-11-23").json()
    assert [(r["patient_id"], r["coverage"], r["missing"]) for r in record] == [("p-new1", "active", [])]
    assert record[0]["notices_execution"] in [e["name"] for e in clinic.executions("appointment")]
    clinic.book("p-new1", on=date(2026, 11, 27), kind="recall")  # a second booking: no second intake
    assert [e["name"] for e in clinic.executions("intake")] == ["intake-p-new1"]
    from revisit.services import staff_console  # the staff console's timeline links the intake

    front_desk = clinic.ctx.config.staff_member("boston-front-desk")
    timeline = staff_console.timeline(clinic.ctx, front_desk, "p-new1")
    assert ("intake", "intake-p-new1") in {(e.workflow, e.name) for e in timeline.executions}
    done = clinic.call("POST", f"/tasks/{onboarding[0]['task_id']}/done", {"staff_id": "chain-admin"})
    assert done.status == 200 and done.json()["status"] == "done"
    assert clinic.ctx.tables.patients.get("p-new1").status == "Active"  # I3: onboarded
    assert booked["appointment_id"]


def test_missing_data_and_no_insurance_become_the_checklist(clinic):
    """I1: nothing guessed: the missing fields are the onboarding task's; no policy: no verification."""
    clinic.ctx.tables.patients.save(new_patient("p-new2", phone=None, insurance=[]))
    clinic.book("p-new2")
    assert clinic.path("intake", "intake-p-new2")[-1] == "NoInsuranceOnFile"
    title = next(t for t in clinic.tasks("office_admin") if t["kind"] == "onboarding")["title"]
    assert "missing phone" in title and "missing insurance" in title


def test_inactive_coverage_is_a_task_never_covered(clinic):
    """I16: an expired policy: the office checks before billing."""
    expired = POLICY.model_copy(update={"valid_from": date(2025, 1, 1), "valid_to": date(2025, 12, 31)})
    clinic.ctx.tables.patients.save(new_patient("p-new3", insurance=[expired]))
    clinic.book("p-new3")
    assert clinic.path("intake", "intake-p-new3")[-1] == "CoverageToCheck"
    assert sorted(t["kind"] for t in clinic.tasks("office_admin") if t["patient_id"] == "p-new3") == [
        "insurance_check", "onboarding"]


def test_a_returning_patient_gets_no_intake(clinic):
    clinic.ctx.tables.patients.save(make_patient("p-000001"))
    clinic.book("p-000001", kind="recall")
    assert clinic.executions("intake") == []


def test_closing_a_visit_prices_bills_claims_and_plans(clinic):
    """I9-I14, I17, X1: fees from Boston's schedule, the split under the policy (deductible, percentages),
    the draft claim and its forward-only moves, the plan from the findings, the hygienist's task, recall
    moved forward; a second close answers the first."""
    clinic.ctx.tables.patients.save(new_patient("p-new4", recalls=[RecallItem(recall_type="prophy",
                                                                             last_done=date(2025, 11, 1))]))
    booked = clinic.book("p-new4", on=date(2026, 11, 25))
    clinic.driver.run_until(datetime(2026, 11, 25, 23, 0, tzinfo=UTC))
    body = {"performed": [{"code": "D0150"}, {"code": "D0274"}, {"code": "D1110"}, {"code": "D2391", "tooth": "30"}],
            "findings": [{"finding": "caries", "tooth": "19"}, {"finding": "periodontitis"}],
            "note": "Deep pocket 5mm LL quadrant", "recorded_by": "boston-lead"}
    answer = clinic.close("p-new4", booked["appointment_id"], body)
    assert answer.status == 201, answer.body
    name = f"visit-{booked['appointment_id']}"
    assert clinic.execution("visit", name)["status"] == "SUCCEEDED"
    assert clinic.path("visit", name) == ["PriceVisit", "BillVisit", "AnyFindings", "PlanNextVisit", "Closed"]
    assert "Deep pocket" not in json.dumps(clinic.execution("visit", name), default=str)
    visit = clinic.call("GET", f"/patients/p-new4/appointments/{booked['appointment_id']}/visit").json()
    # 110 + 80 + 120 (diagnostic, preventive: 100 %, no deductible) + 185 basic: 50 deductible, 80 % of 135
    assert (visit["currency"], visit["total"], visit["insurance_portion"], visit["patient_portion"]) == (
        "USD", "495.00", "418.00", "77.00")
    assert visit["has_note"] is True and "note" not in visit
    claim = clinic.call("GET", f"/claims/{visit['claim_id']}").json()
    assert (claim["status"], claim["amount"], claim["deductible"]) == ("draft", "418.00", "50.00")
    for status in ("submitted", "accepted", "paid"):
        assert clinic.call("POST", f"/claims/{claim['claim_id']}/status", {"status": status}).status == 200
    backwards = clinic.call("POST", f"/claims/{claim['claim_id']}/status", {"status": "draft"})
    assert backwards.status == 422 and backwards.json()["field"] == "status"
    plans = clinic.call("GET", "/patients/p-new4/treatment-plans").json()
    assert [(i["code"], i["tooth"]) for i in plans[0]["items"]] == [("D2391", "19"), ("D4341", None)]
    assert plans[0]["estimate"] == "445.00"
    assert [t["kind"] for t in clinic.tasks("hygienist") if t["patient_id"] == "p-new4"] == ["next_visit"]
    patient = clinic.ctx.tables.patients.get("p-new4")
    assert patient.planned_treatment and patient.treatment == "periodontal" and patient.status == "Follow-up"
    assert patient.last_visit == date(2026, 11, 25)
    assert next(r for r in patient.recalls if r.recall_type == "prophy").last_done == date(2026, 11, 25)  # X1
    again = clinic.close("p-new4", booked["appointment_id"], {"performed": [{"code": "D0120"}]})
    assert again.status == 200 and again.json()["total"] == "495.00"
    paid = clinic.call("POST", f"/patients/p-new4/appointments/{booked['appointment_id']}/payments",
                       {"payment_id": "pay-1", "amount": "50.00", "currency": "USD", "method": "card"})
    assert paid.status == 201, paid.body
    balance = clinic.call("GET", "/patients/p-new4/balance").json()
    assert balance["due"] == [{"currency": "USD", "amount": "27.00"}]


def test_a_visit_without_findings_or_insurance_closes_without_plan_or_claim(clinic):
    clinic.ctx.tables.patients.save(new_patient("p-new5", insurance=[]))
    booked = clinic.book("p-new5", on=date(2026, 11, 25))
    clinic.driver.run_until(datetime(2026, 11, 25, 23, 0, tzinfo=UTC))
    assert clinic.close("p-new5", booked["appointment_id"], {"performed": [{"code": "D0150"}]}).status == 201
    name = f"visit-{booked['appointment_id']}"
    assert clinic.path("visit", name)[-1] == "ClosedWithoutPlan"
    visit = clinic.call("GET", f"/patients/p-new5/appointments/{booked['appointment_id']}/visit").json()
    assert (visit["claim_id"], visit["patient_portion"], visit["coverage"], visit["stage"]) == (None, "110.00", None, "closed")


def test_bad_visits_are_refused_naming_the_field_and_write_nothing(clinic):
    clinic.ctx.tables.patients.save(new_patient("p-new6"))
    booked = clinic.book("p-new6", on=date(2026, 11, 25))
    early = clinic.close("p-new6", booked["appointment_id"], {"performed": [{"code": "D0150"}]})
    assert early.status == 422 and early.json()["field"] == "appointment_id"  # before the visit
    clinic.driver.run_until(datetime(2026, 11, 25, 23, 0, tzinfo=UTC))
    unknown = clinic.close("p-new6", booked["appointment_id"], {"performed": [{"code": "D0150"}, {"code": "D9999"}]})
    assert unknown.status == 422 and unknown.json()["field"] == "performed[1].code"
    finding = clinic.close("p-new6", booked["appointment_id"], {"performed": [{"code": "D0150"}],
                                                               "findings": [{"finding": "dragon"}]})
    assert finding.status == 422 and finding.json()["field"] == "findings[0].finding"
    empty = clinic.close("p-new6", booked["appointment_id"], {"performed": []})
    assert empty.status == 422
    assert clinic.call("GET", f"/patients/p-new6/appointments/{booked['appointment_id']}/visit").status == 404
    assert clinic.executions("visit") == []
    assert clinic.close("p-new6", "a-nothere", {"performed": [{"code": "D0150"}]}).status == 404
    cancelled = clinic.book("p-new6", on=date(2026, 11, 27), kind="recall")
    clinic.call("POST", f"/patients/p-new6/appointments/{cancelled['appointment_id']}/cancel", {"reason": "sick"})
    clinic.driver.run_until(datetime(2026, 11, 27, 23, 0, tzinfo=UTC))
    refused = clinic.close("p-new6", cancelled["appointment_id"], {"performed": [{"code": "D0120"}]})
    assert refused.status == 422 and "cancelled" in refused.json()["error"]
    over = clinic.call("PUT", "/patients/p-new6/insurance/primary", {**POLICY.model_dump(mode="json"),
                                                            "category_percent": {"basic": 120}})
    assert over.status == 422 and "category_percent" in over.json()["field"]


def test_the_daily_intake_report_lists_the_days_new_patients(clinic):
    """I15: at 06:00 (the tenant's zone) the report of the day before, per clinic, CSV, JSON and HTML."""
    clinic.ctx.tables.patients.save(new_patient("p-new7", email=None))
    clinic.book("p-new7")
    clinic.driver.run_until(datetime(2026, 11, 24, 5, 30, tzinfo=UTC))  # 06:30 in Madrid
    s3 = clinic.stack.client("s3")
    bucket = clinic.stack.names["bucket"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="reports/intake-daily/").get("Contents", [])]
    assert sorted(keys) == [f"reports/intake-daily/2026-11-23.{ext}" for ext in ("csv", "html", "json")]
    report = json.loads(s3.get_object(Bucket=bucket, Key="reports/intake-daily/2026-11-23.json")["Body"].read())
    assert [(r["patient_id"], r["missing"], r["onboarding"]) for r in report["rows"]] == [("p-new7", "email", "open")]
    assert report["clinics"][0]["registered"] == 1
    html = s3.get_object(Bucket=bucket, Key="reports/intake-daily/2026-11-23.html")["Body"].read().decode()
    assert "Emma" not in html and "p-new7" in html


def test_a_visit_paid_from_the_deductible_alone_counts_for_the_next_one(clinic):
    """I17: the deductible is used once a year: a visit below it is claimed (for 0.00) and the next visit's
    split starts from what is left; payments in another currency do not reduce a balance."""
    policy = POLICY.model_copy(update={"deductible": Decimal("200")})
    clinic.ctx.tables.patients.save(new_patient("p-new8", insurance=[policy]))
    first = clinic.book("p-new8", on=date(2026, 11, 25), kind="recall")
    second = clinic.book("p-new8", on=date(2026, 11, 27), kind="recall")
    clinic.driver.run_until(datetime(2026, 11, 27, 23, 0, tzinfo=UTC))
    for booked in (first, second):
        assert clinic.close("p-new8", booked["appointment_id"], {"performed": [{"code": "D2391"}]}).status == 201
    visits = [clinic.call("GET", f"/patients/p-new8/appointments/{b['appointment_id']}/visit").json()
              for b in (first, second)]
    assert [(v["lines"][0]["deductible"], v["insurance_portion"]) for v in visits] == [
        ("185.00", "0.00"), ("15.00", "136.00")]
    clinic.call("POST", f"/patients/p-new8/appointments/{first['appointment_id']}/payments",
                {"payment_id": "rub-1", "amount": "100.00", "currency": "RUB", "method": "card"})
    assert clinic.call("GET", "/patients/p-new8/balance").json()["due"] == [{"currency": "USD", "amount": "234.00"}]
    typo = clinic.call("PUT", "/patients/p-new8/insurance/primary", {**policy.model_dump(mode="json"),
                                                                     "category_percent": {"basik": 80}})
    assert typo.status == 422 and typo.json()["field"] == "category_percent"
