"""The repositories' contract, on moto and on DynamoDB Local: keys, sparse indexes, and the conditional
writes that the never-twice and never-backwards rules rest on."""

from datetime import UTC, date, datetime, timedelta

import pytest

from revisit.adapters import dynamo_keys as keys
from revisit.errors import Conflict, NotFound
from revisit.models.common import Channel, Role
from revisit.models.entities import (
    Appointment,
    AttemptOutcome,
    CommunicationAttempt,
    CycleStatus,
    RecallCycle,
    RecallItem,
    RecallStatus,
    StaffTask,
    TaskKind,
    TaskPriority,
    TaskStatus,
)
from tests.conftest import make_patient

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def cycle_for(patient, due=date(2026, 11, 21)):
    return RecallCycle(patient_id=patient.patient_id, cycle_id=due.isoformat(), clinic_id=patient.clinic_id,
                       patient_name="E. W.", recall_due_date=due, recall_types=["prophy"], next_contact_at=NOW,
                       execution_name=f"recall-{patient.patient_id}-{due:%Y%m%d}", opened_at=NOW)


def test_patient_round_trip_and_not_found(tables):
    patient = make_patient(insurance=[])
    tables.patients.save(patient)
    assert tables.patients.get(patient.patient_id) == patient
    with pytest.raises(NotFound):
        tables.patients.get("p-missing")
    with pytest.raises(Conflict):
        tables.patients.create(patient)


def test_due_index_holds_only_recallable_patients_and_reads_only_them(tables):
    due = [make_patient(f"p-{n:06d}") for n in range(5)]  # prophy done 2026-05-20: due 2026-11-21
    later = make_patient("p-000100", recalls=[RecallItem(recall_type="prophy", last_done=date(2026, 10, 1))])
    opted_out = make_patient("p-000101", opted_out=True)
    elsewhere = make_patient("p-000102", clinic_id="madrid", language="es")
    tables.patients.save_many([*due, later, opted_out, elsewhere])

    entries, token, read = [], None, 0
    while True:
        page, token, items_read = tables.patients.due_page("boston", date(2026, 12, 8), 2, token)
        entries += page
        read += items_read
        if token is None:
            break
    assert sorted(e["patient_id"] for e in entries) == [p.patient_id for p in due]
    assert {e["recall_due_date"] for e in entries} == {"2026-11-21"}
    assert read == len(due)  # the sparse index: nothing else is read
    assert tables.patients.count_due("boston", date(2026, 12, 8)) == 5
    assert tables.patients.count_due("boston", date(2027, 6, 1)) == 6


def test_opening_a_cycle_is_once_and_takes_the_patient_off_the_due_index(tables):
    patient = make_patient()
    tables.patients.save(patient)
    cycle = cycle_for(patient)
    tables.cycles.open(cycle)
    with pytest.raises(Conflict):
        tables.cycles.open(cycle)
    assert tables.patients.count_due("boston", date(2026, 12, 8)) == 0
    stored = tables.patients.get(patient.patient_id)
    assert stored.recall_cycle_id == cycle.cycle_id and stored.recall_status == RecallStatus.PENDING
    assert tables.cycles.get(patient.patient_id, cycle.cycle_id) == cycle
    assert [c.cycle_id for c in tables.cycles.open_cycles("boston")] == [cycle.cycle_id]
    assert tables.cycles.count_open("boston") == 1


def test_the_ladder_advances_only_from_the_rung_read_and_a_closed_cycle_never_reopens(tables):
    patient = make_patient()
    tables.patients.save(patient)
    cycle = cycle_for(patient)
    tables.cycles.open(cycle)
    tables.cycles.record_progress(cycle, step_index=1, next_contact_at=NOW + timedelta(days=7),
                                  status=CycleStatus.CONTACTED, contacted_at=NOW, channel="sms")
    with pytest.raises(Conflict):  # a racing try that read the same rung
        tables.cycles.record_progress(cycle, step_index=1, next_contact_at=NOW, status=CycleStatus.CONTACTED,
                                      contacted_at=NOW, channel="sms")
    advanced = tables.cycles.get(patient.patient_id, cycle.cycle_id)
    assert (advanced.step_index, advanced.attempts, advanced.status) == (1, 1, CycleStatus.CONTACTED)
    assert tables.patients.get(patient.patient_id).recall_status == RecallStatus.CONTACTED
    assert tables.cycles.count_open("boston", CycleStatus.CONTACTED) == 1

    assert tables.cycles.close(advanced, CycleStatus.BOOKED, "booked", NOW) is True
    assert tables.cycles.close(advanced, CycleStatus.DECLINED, "late reply", NOW) is False
    with pytest.raises(Conflict):
        tables.cycles.record_progress(advanced, step_index=2, next_contact_at=NOW, status=CycleStatus.CONTACTED,
                                      contacted_at=NOW, channel="email")
    assert tables.cycles.get(patient.patient_id, cycle.cycle_id).status == CycleStatus.BOOKED
    assert tables.patients.get(patient.patient_id).recall_status == RecallStatus.BOOKED
    assert list(tables.cycles.open_cycles("boston")) == [] and tables.cycles.count_open("boston") == 0


def test_an_attempt_is_claimed_once_and_a_released_claim_can_be_taken_again(tables):
    attempt = CommunicationAttempt(patient_id="p-000001", cycle_id="2026-11-21", step="sms-1", channel=Channel.SMS,
                                   outcome=AttemptOutcome.SENDING, at=NOW, language="en")
    assert tables.attempts.claim(attempt) is None
    assert tables.attempts.claim(attempt) == attempt  # the earlier claim comes back: do not send
    tables.attempts.release(attempt)
    assert tables.attempts.claim(attempt) is None
    sent = attempt.model_copy(update={"outcome": AttemptOutcome.SENT, "message_id": "m-1", "sms_segments": 1})
    tables.attempts.record(sent)
    with pytest.raises(Exception):  # noqa: B017 (a sent attempt is no longer a releasable claim)
        tables.attempts.release(attempt)
    assert tables.attempts.for_patient("p-000001") == [sent]


def test_tasks_are_created_once_queued_by_due_time_and_leave_the_queue_when_closed(tables):
    def task(task_id, hours):
        return StaffTask(task_id=task_id, kind=TaskKind.RECALL_CALL, role=Role.FRONT_DESK, clinic_id="boston",
                         priority=TaskPriority.HIGH, title="Call", due_at=NOW + timedelta(hours=hours),
                         created_at=NOW, patient_id="p-000001")
    assert tables.tasks.create(task("t-late", 5)) is True
    assert tables.tasks.create(task("t-early", 1)) is True
    assert tables.tasks.create(task("t-early", 1)) is False
    assert [t.task_id for t in tables.tasks.open_queue("boston", "front_desk")] == ["t-early", "t-late"]
    assert tables.tasks.open_queue("madrid", "front_desk") == []
    assert tables.tasks.close("t-early", TaskStatus.DONE, NOW, result="booked") is True
    assert tables.tasks.close("t-early", TaskStatus.CANCELLED, NOW) is False
    assert [t.task_id for t in tables.tasks.open_queue("boston", "front_desk")] == ["t-late"]
    assert tables.tasks.get("t-early").status == TaskStatus.DONE
    with pytest.raises(NotFound):
        tables.tasks.get("t-none")


def test_appointments_and_notices(tables):
    appointment = Appointment(appointment_id="a-1", patient_id="p-000001", clinic_id="boston",
                              appointment_type="recall", starts_at=NOW + timedelta(days=9), created_at=NOW)
    tables.appointments.save(appointment)
    assert tables.appointments.for_patient("p-000001") == [appointment]
    marker = keys.notice("admin-summary", "2026-11-24")
    assert tables.notices.claim(marker) is True
    assert tables.notices.claim(marker) is False
